package dev.runcible.storm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.storm.utils.ConfigUtils;

/** The agent's {@code run} command line for a Storm worker: its user, limits, Storm's mounts, command and env. */
final class WorkerRun {
    private final Map<String, Object> conf;
    private final StormSettings settings;

    /** What {@code reserveResourcesForWorker} set aside for a worker. */
    record Reservation(Optional<Integer> memoryMb, Optional<Integer> cpuPercent, Optional<StormSettings.Numa> numa) {
        static final Reservation NONE = new Reservation(Optional.empty(), Optional.empty(), Optional.empty());
    }

    WorkerRun(Map<String, Object> conf, StormSettings settings) {
        this.conf = conf;
        this.settings = settings;
    }

    /** The agent's {@code run} command line for one worker. */
    List<String> arguments(HostUser user, String image, String name, String topologyId, int port,
            Reservation reservation, String workerId, List<String> command, Map<String, String> env, Path workdir)
            throws IOException {
        List<String> args = new ArrayList<>(List.of("run", "--detach", "--name", name, "--user",
                user.uid() + ":" + user.gid(), "--workdir", workdir.toString(), "--cgroup-parent",
                settings.cgroupParent(), "--network", "host"));
        for (long group : user.groups()) {
            args.addAll(List.of("--group-add", Long.toString(group)));
        }
        reservation.cpuPercent().ifPresent(cpu -> args.addAll(List.of("--cpu", cpu.toString())));
        reservation.memoryMb().ifPresent(mb -> args.addAll(List.of("--memory", mb + "m")));
        reservation.numa().ifPresent(numa -> args.addAll(List.of("--cpuset-cpus", numa.cpus(), "--cpuset-mems",
                numa.mems())));
        for (String mount : mounts(topologyId, port, workerId)) {
            args.addAll(List.of("--mount", mount));
        }
        env.forEach((key, value) -> args.addAll(List.of("--env", key + "=" + value)));
        args.add(image);
        args.add("--");
        args.addAll(command);
        return args;
    }

    /**
     * Storm's standard mounts, at the same paths: its read-only and read-write lists, the nscd socket, Storm's home
     * and the supervisor's local directory read-only; the worker's own directory, its artifacts (logs), its user
     * file and the topology's shared directory read-write; the worker's tmp directory at /tmp.
     */
    List<String> mounts(String topologyId, int port, String workerId) throws IOException {
        List<String> mounts = new ArrayList<>();
        settings.readOnlyMounts().forEach(path -> mounts.add(path + ":" + path + ":ro"));
        settings.readWriteMounts().forEach(path -> mounts.add(path + ":" + path + ":rw"));
        settings.nscd().ifPresent(path -> mounts.add(path + ":" + path + ":ro"));
        mounts.add(settings.stormHome() + ":" + settings.stormHome() + ":ro");
        String supervisor = ConfigUtils.supervisorLocalDir(conf);
        mounts.add(supervisor + ":" + supervisor + ":ro");
        for (String path : List.of(ConfigUtils.workerRoot(conf, workerId),
                ConfigUtils.workerArtifactsRoot(conf, topologyId, port), ConfigUtils.workerUserFile(conf, workerId),
                ConfigUtils.sharedByTopologyDir(conf, topologyId))) {
            if (Files.exists(Path.of(path))) {
                mounts.add(path + ":" + path + ":rw");
            }
        }
        mounts.add(ConfigUtils.workerTmpRoot(conf, workerId) + ":/tmp:rw");
        return mounts;
    }
}
