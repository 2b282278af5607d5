package dev.runcible.core.cli;

import dev.runcible.core.Runcible;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "rm", description = "Remove containers: unmount their root filesystem, release their layers.")
final class RmCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = {"-f", "--force"}, description = "Kill a running container first.")
    boolean force;

    @Parameters(paramLabel = "ID|NAME", arity = "1..*")
    List<String> containers;

    @Override
    public Integer call() throws Exception {
        main.requireNode("rm");
        try (Runcible runcible = main.open()) {
            for (String container : containers) {
                main.containers(runcible).remove(container, force);
                main.out().println(container);
            }
            return 0;
        }
    }
}
