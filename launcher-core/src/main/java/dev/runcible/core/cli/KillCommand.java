package dev.runcible.core.cli;

import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.Runcible;
import dev.runcible.core.container.ContainerInfo;
import dev.runcible.core.container.ContainerManager;
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
        main.requireNode("kill");
        try (Runcible runcible = main.open()) {
            ContainerManager containers = main.containers(runcible);
            if (!containers.kill(container, signal)) {
                ContainerInfo info = containers.find(container);
                throw new InvalidRequestException("Cannot kill container " + container + ": container "
                        + info.record().shortId() + " is " + info.state().display() + ", not running");
            }
            main.out().println(container);
            return 0;
        }
    }
}
