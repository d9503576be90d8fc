package io.sourcemesh.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code rollout status|restart deploy/NAME}. */
@Command(name = "rollout", description = "Manage the rollout of a deployment.",
        subcommands = {RolloutStatusCommand.class, RolloutRestartCommand.class})
final class RolloutCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand: status or restart");
    }
}
