package dev.runcible.core.cli;

import dev.runcible.core.Runcible;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "kill", description = "Send a signal (default KILL, as docker) to a running container.")
final class KillCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = {"-s", "--signal"}, paramLabel = "SIG", description = "Signal name or number (default KILL).")
    String signal = "KILL";

    @Parameters(paramLabel = "ID|NAME")
    String container;

    @Override
    public Integer call() throws Exception {
        Main.requireRoot("kill");
        try (Runcible runcible = main.open()) {
            runcible.containers().kill(container, signal);
            main.out().println(container);
            return 0;
        }
    }
}
