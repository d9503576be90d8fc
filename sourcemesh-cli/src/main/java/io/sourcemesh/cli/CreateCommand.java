package io.sourcemesh.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code create secret tls ...} (the user's document) and {@code create secret generic ...} (a MUTUAL gateway's clients' CA). */
@Command(name = "create", description = "Create a resource.", subcommands = CreateCommand.Secret.class)
final class CreateCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand: secret");
    }

    @Command(name = "secret", description = "Create a secret.", subcommands = {CreateSecretTlsCommand.class, CreateSecretGenericCommand.class})
    static final class Secret implements Runnable {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            throw new CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand: tls");
        }
    }
}
