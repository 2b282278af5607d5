package dev.runcible.core.cli;

import dev.runcible.core.Runcible;
import dev.runcible.core.container.ContainerInfo;
import dev.runcible.core.container.ContainerManager;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "logs", description = "Print a container's output (stdout and stderr).")
final class LogsCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = {"-f", "--follow"}, description = "Keep printing until the container exits.")
    boolean follow;

    @Parameters(paramLabel = "ID|NAME")
    String container;

    @Override
    public Integer call() throws Exception {
        main.requireNode("logs");
        try (Runcible runcible = main.open()) {
            ContainerManager containers = main.containers(runcible);
            ContainerInfo info = containers.find(container);
            var files = containers.files(info);
            LogFollower follower = new LogFollower(files.stdout(), files.stderr(), main.out(), main.err());
            follower.pump();
            // Following ends with the container, or when nobody reads any more (an agent's client that went away).
            while (follow && !main.out().checkError() && containers.find(info.record().id()).isActive()) {
                Thread.sleep(50);
                follower.pump();
            }
            follower.pump();
            return 0;
        }
    }
}
