package dev.runcible.core.cli;

import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.Runcible;
import dev.runcible.core.container.ExecRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "exec", description = "Run a command in a running container, with its namespaces, cgroup, seccomp "
        + "filter and capabilities; stream its output and exit with its exit code.")
final class ExecCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = {"-u", "--user"}, paramLabel = "USER[:GROUP]",
            description = "Run as this user (name or uid) instead of the container's.")
    String user;

    @Option(names = {"-e", "--env"}, paramLabel = "K=V", description = "Set (K=V) or pass (K) an environment variable.")
    List<String> env = new ArrayList<>();

    @Option(names = {"-w", "--workdir"}, paramLabel = "DIR", description = "Working directory inside the container.")
    String workdir;

    @Parameters(index = "0", paramLabel = "ID|NAME")
    String container;

    @Parameters(index = "1..*", paramLabel = "CMD", description = "Command and arguments.")
    List<String> command = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        List<String> args = new ArrayList<>(command);
        if (!args.isEmpty() && args.get(0).equals("--")) {
            args.remove(0);
        }
        main.requireNode("exec");
        List<String> resolved = RunCommand.passedEnv(env, main.environment());
        if (args.isEmpty()) {
            throw new InvalidRequestException("No command given: runcible exec ID|NAME -- CMD [ARG...]");
        }
        try (Runcible runcible = main.open()) {
            return main.containers(runcible).exec(container, new ExecRequest(args, Optional.ofNullable(user),
                    resolved, Optional.ofNullable(workdir)), main.out(), main.err());
        }
    }
}
