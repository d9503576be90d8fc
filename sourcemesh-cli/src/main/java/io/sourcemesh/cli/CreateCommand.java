package io.sourcemesh.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code create secret tls ...}: the one create form the user's document needs. */
@Command(name = "create", description = "Create a resource.", subcommands = CreateCommand.Secret.class)
final class CreateCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand: secret");
    }

    @Command(name = "secret", description = "Create a secret.", subcommands = CreateSecretTlsCommand.class)
    static final class Secret implements Runnable {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            throw new CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand: tls");
        }
    }
}
