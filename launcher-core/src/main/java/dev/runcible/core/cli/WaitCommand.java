package dev.runcible.core.cli;

import dev.runcible.core.Runcible;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "wait", description = "Wait for a container to exit; print its exit code and exit with it.")
final class WaitCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Parameters(paramLabel = "ID|NAME")
    String container;

    @Override
    public Integer call() throws Exception {
        main.requireNode("wait");
        try (Runcible runcible = main.open()) {
            int code = main.containers(runcible).await(container);
            main.out().println(code);
            return code;
        }
    }
}
