package dev.runcible.core.cli;

import dev.runcible.api.ImageReference;
import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.Runcible;
import dev.runcible.core.container.ContainerManager;
import dev.runcible.core.container.ProcessPlan;
import dev.runcible.core.container.RunOptions;
import dev.runcible.core.container.RunRequest;
import dev.runcible.core.runtime.CpuSet;
import dev.runcible.core.runtime.BindMount;
import dev.runcible.core.runtime.Limits;
import dev.runcible.core.runtime.Network;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "run", description = "Run a command in a new container. In the foreground, stream its output and "
        + "exit with its exit code.")
final class RunCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--name", description = "Container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*).")
    String name;

    @Option(names = "--cpu", paramLabel = "PERCENT", description = "CPU limit in percent of one core (150 = 1.5 cores).")
    Integer cpu;

    @Option(names = {"-m", "--memory"}, paramLabel = "SIZE", description = "Memory limit, e.g. 512m or 2g.")
    String memory;

    @Option(names = "--pids", paramLabel = "N", description = "Most processes and threads.")
    Long pids;

    @Option(names = {"-e", "--env"}, paramLabel = "K=V", description = "Set (K=V) or pass (K) an environment variable.")
    List<String> env = new ArrayList<>();

    @Option(names = "--mount", paramLabel = "SRC:DST[:ro|rw]", description = "Bind mount a host path.")
    List<String> mounts = new ArrayList<>();

    @Option(names = {"-u", "--user"}, paramLabel = "USER[:GROUP]",
            description = "Run as this user (name or uid) instead of the image's User.")
    String user;

    @Option(names = "--network", paramLabel = "host|none",
            description = "host: the node's network (default); none: loopback only.")
    String network = "host";

    @Option(names = {"-w", "--workdir"}, paramLabel = "DIR", description = "Working directory inside the container "
            + "(instead of the image's WorkingDir).")
    String workdir;

    @Option(names = "--group-add", paramLabel = "GID", description = "Add a supplementary group (numeric gid).")
    List<String> groupAdd = new ArrayList<>();

    @Option(names = "--cgroup-parent", paramLabel = "PATH", description = "Cgroup to put the container's own under, "
            + "relative (default: runcible.cgroup.parent, itself 'runcible').")
    String cgroupParent;

    @Option(names = "--cpuset-cpus", paramLabel = "LIST", description = "CPUs the container may use (0-3,8).")
    String cpusetCpus;

    @Option(names = "--cpuset-mems", paramLabel = "LIST", description = "Memory nodes the container may use (0,1).")
    String cpusetMems;

    @Option(names = {"-d", "--detach"}, description = "Run in the background and print the container id.")
    boolean detach;

    @Option(names = "--rm", description = "Remove the container when it exits; with -d its supervisor "
            + "removes it.")
    boolean remove;

    @Parameters(index = "0", paramLabel = "IMAGE")
    String image;

    @Parameters(index = "1..*", paramLabel = "CMD", description = "Command and arguments (replace the image's Cmd).")
    List<String> command = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        ImageReference reference = ImageReference.parseStoreName(image);
        Limits limits = Limits.parse(memory, cpu, pids);
        Network net = Network.parse(network);
        RunOptions options = new RunOptions(Optional.ofNullable(workdir), RunOptions.parseGids(groupAdd),
                Optional.ofNullable(cgroupParent), CpuSet.parse(cpusetCpus, cpusetMems));
        List<BindMount> binds = new ArrayList<>();
        for (String mount : mounts) {
            binds.add(BindMount.parse(mount));
        }
        List<String> args = new ArrayList<>(command);
        if (!args.isEmpty() && args.get(0).equals("--")) {
            args.remove(0);
        }
        main.requireNode("run");
        try (Runcible runcible = main.open()) {
            ContainerManager containers = main.containers(runcible);
            RunRequest request = new RunRequest(reference, Optional.ofNullable(name), args,
                    passedEnv(env, main.environment()), limits, binds, Optional.ofNullable(user), net, remove, !detach,
                    options);
            ContainerManager.Started started = containers.run(request);
            String id = started.record().id();
            if (detach) {
                main.out().println(id);
                return 0;
            }
            main.invocation().signals().forward(containers, id);
            LogFollower follower = new LogFollower(started.files().stdout(), started.files().stderr(), main.out(),
                    main.err());
            while (!started.shim().waitFor(20, TimeUnit.MILLISECONDS)) {
                follower.pump();
            }
            follower.pump();
            int exitCode = containers.exitCode(started.files()).orElse(Main.LAUNCHER_ERROR);
            if (remove) {
                containers.remove(id, true);
            } else {
                containers.exited(id); // its root filesystem and layers go now, as docker's do; its files stay
            }
            return exitCode;
        }
    }

    /**
     * The {@code --env} entries with each bare {@code NAME} given its value from this command line's environment
     * (the client's, when the agent runs it, never the agent's own); a name that is not set there is left out.
     */
    static List<String> passedEnv(List<String> env, Map<String, String> environment)
            throws InvalidRequestException {
        List<String> resolved = new ArrayList<>();
        for (String entry : env) {
            String variable = ProcessPlan.envName(entry);
            if (entry.indexOf('=') >= 0) {
                resolved.add(entry);
            } else if (environment.containsKey(variable)) {
                resolved.add(variable + "=" + environment.get(variable));
            }
        }
        return resolved;
    }

}
