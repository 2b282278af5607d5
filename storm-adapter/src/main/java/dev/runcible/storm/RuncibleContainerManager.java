package dev.runcible.storm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.runcible.client.AgentConnection;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.storm.container.ResourceIsolationInterface;
import org.apache.storm.daemon.supervisor.ExitCodeCallback;
import org.apache.storm.utils.ConfigUtils;
import org.apache.storm.utils.ServerUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Storm's container manager over the Runcible node agent. The supervisor stays unprivileged: every worker is a
 * container the agent runs (as the topology owner's host uid, gid and groups, in the topology's image, under the
 * configured cgroup parent), found again by its name {@code <port>-<workerId>}, as Storm's own runc manager names
 * them. Exit codes come from the agent's event stream, so Storm hears the real code of every worker.
 *
 * <p>Enable it in storm.yaml with {@code storm.resource.isolation.plugin.enable: true} and
 * {@code storm.resource.isolation.plugin: "dev.runcible.storm.RuncibleContainerManager"}.
 */
public class RuncibleContainerManager implements ResourceIsolationInterface {
    private static final Logger LOG = LoggerFactory.getLogger(RuncibleContainerManager.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private Map<String, Object> conf;
    private StormSettings settings;
    private AgentConnection agent;
    private WorkerExits exits;
    private final Map<String, WorkerRun.Reservation> reservations = new ConcurrentHashMap<>();
    private final Map<String, String> containers = new ConcurrentHashMap<>();
    /** Worker users looked up in the last minute: Storm starts the workers of the same owners again and again. */
    private final Map<String, CachedUser> users = new ConcurrentHashMap<>();
    private static final long USER_TTL_NANOS = 60_000_000_000L;

    private record CachedUser(HostUser user, long at) {
    }

    @Override
    public void prepare(Map<String, Object> conf) throws IOException {
        String home = System.getProperty(ConfigUtils.STORM_HOME);
        if (home == null) {
            throw new StormConfigException("storm.home is not set: start the supervisor with Storm's launcher "
                    + "(bin/storm supervisor), which sets -Dstorm.home");
        }
        prepare(conf, StormSettings.from(conf, Path.of(home), System.getenv()));
    }

    /** As {@link #prepare(Map)}, with the settings already read (tests, embedding programs). */
    public void prepare(Map<String, Object> conf, StormSettings settings) {
        this.conf = conf;
        this.settings = settings;
        this.agent = new AgentConnection(settings.socket());
        if (exits != null) {
            try {
                exits.close();
            } catch (IOException e) {
                LOG.debug("Closing the previous event follower", e);
            }
        }
        this.exits = new WorkerExits(agent, Instant.now());
        exits.start();
        LOG.info("Workers run in Runcible containers through the agent at {} (cgroup parent {}, default image {})",
                settings.socket(), settings.cgroupParent(), settings.defaultImage());
    }

    @Override
    public void reserveResourcesForWorker(String workerId, Integer workerMemoryMb, Integer workerCpu, String numaId) {
        Optional<Integer> cpu = settings.cpuLimit().or(() -> Optional.ofNullable(workerCpu)).filter(c -> c > 0);
        Optional<Integer> memory = settings.memoryEnforced()
                ? Optional.ofNullable(workerMemoryMb).filter(m -> m > 0) : Optional.empty();
        Optional<StormSettings.Numa> numa = Optional.empty();
        if (numaId != null) {
            numa = Optional.ofNullable(settings.numa().get(numaId));
            if (numa.isEmpty()) {
                throw new StormConfigException("NUMA zone " + numaId + " of worker " + workerId + " is not in "
                        + "supervisor.numa.meta " + settings.numa().keySet());
            }
        }
        reservations.put(workerId, new WorkerRun.Reservation(memory, cpu, numa));
    }

    @Override
    public void cleanup(String user, String workerId, int port) throws IOException {
        reservations.remove(workerId);
        Optional<String> name = port > 0 ? Optional.of(containerName(port, workerId)) : find(workerId);
        containers.remove(workerId);
        if (name.isEmpty()) {
            return;
        }
        exits.forget(name.get());
        AgentConnection.Result removed = agent.call(List.of("rm", "--force", name.get()), Map.of());
        if (!removed.ok() && !gone(removed)) {
            throw new IOException("Removing the container " + name.get() + " of worker " + workerId + " failed: "
                    + removed.err().strip());
        }
    }

    @Override
    public void launchWorkerProcess(String user, String topologyId, Map<String, Object> topoConf, int port,
            String workerId, List<String> command, Map<String, String> env, String logPrefix,
            ExitCodeCallback processExitCallback, File targetDir) throws IOException {
        String name = containerName(port, workerId);
        List<String> args;
        try {
            args = new WorkerRun(conf, settings).arguments(hostUser(user), settings.image(topoConf), name,
                    topologyId, port, reservations.getOrDefault(workerId, WorkerRun.Reservation.NONE), workerId,
                    command, env, targetDir.toPath());
        } catch (StormConfigException e) {
            throw new IOException(logPrefix + ": " + e.getMessage(), e);
        }
        exits.watch(name, processExitCallback);
        AgentConnection.Result started = agent.call(args, Map.of());
        if (!started.ok()) {
            exits.forget(name);
            throw new IOException(logPrefix + ": the agent did not start worker " + workerId + " (container "
                    + name + ", exit " + started.exitCode() + "): " + started.err().strip());
        }
        containers.put(workerId, name);
        LOG.info("{}: worker {} runs in container {} as {}", logPrefix, workerId, name, user);
    }

    private HostUser hostUser(String name) throws IOException {
        CachedUser cached = users.get(name);
        if (cached != null && System.nanoTime() - cached.at() < USER_TTL_NANOS) {
            return cached.user();
        }
        HostUser user = HostUser.lookup(name);
        users.put(name, new CachedUser(user, System.nanoTime()));
        return user;
    }

    @Override
    public long getMemoryUsage(String user, String workerId, int port) throws IOException {
        String name = port > 0 ? containerName(port, workerId) : find(workerId).orElse(null);
        if (name == null) {
            return 0;
        }
        AgentConnection.Result stats = agent.call(List.of("stats", "--json", name), Map.of());
        if (!stats.ok()) {
            if (notRunning(stats) || gone(stats)) {
                return 0;
            }
            throw new IOException("stats of " + name + " failed: " + stats.err().strip());
        }
        return JSON.readTree(stats.out()).path("memoryBytes").asLong();
    }

    /** The node's free memory, or what the cgroup parent's limit leaves, whichever is less. */
    @Override
    public long getSystemFreeMemoryMb() throws IOException {
        long free = ServerUtils.getMemInfoFreeMb();
        Optional<Long> limit = parentMemory("memory.limit_in_bytes", "memory.max");
        Optional<Long> used = parentMemory("memory.usage_in_bytes", "memory.current");
        if (limit.isPresent() && used.isPresent()) {
            free = Math.min(free, Math.max(0, limit.get() - used.get()) >> 20);
        }
        return free;
    }

    /** A number of the cgroup parent's memory controller: its cgroup v1 file, else its cgroup v2 file. */
    private Optional<Long> parentMemory(String v1File, String v2File) {
        Path root = settings.cgroupRoot();
        return number(root.resolve("memory").resolve(settings.cgroupParent()).resolve(v1File))
                .or(() -> number(root.resolve(settings.cgroupParent()).resolve(v2File)));
    }

    private static Optional<Long> number(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
            return text.equals("max") ? Optional.of(Long.MAX_VALUE) : Optional.of(Long.parseLong(text));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    @Override
    public void kill(String user, String workerId) throws IOException {
        signal(workerId, "TERM");
    }

    /** KILL; a worker that already exited gets nothing. */
    @Override
    public void forceKill(String user, String workerId) throws IOException {
        signal(workerId, "KILL");
    }

    private void signal(String workerId, String signal) throws IOException {
        Optional<String> name = find(workerId);
        if (name.isEmpty()) {
            LOG.info("Worker {} has no container to send {} to", workerId, signal);
            return;
        }
        AgentConnection.Result killed = agent.call(List.of("kill", "--signal", signal, name.get()), Map.of());
        if (!killed.ok() && !notRunning(killed) && !gone(killed)) {
            throw new IOException("kill --signal " + signal + " " + name.get() + " failed: "
                    + killed.err().strip());
        }
    }

    /** True once the worker's container exited and its cgroup holds no process, or it has no container. */
    @Override
    public boolean areAllProcessesDead(String user, String workerId) throws IOException {
        Optional<JsonNode> container = describe(workerId);
        return container.isEmpty() || container.get().path("processesGone").asBoolean();
    }

    /** Runs Storm's jstack, jmap or heap-dump command in the worker's container; its output goes to the log. */
    @Override
    public boolean runProfilingCommand(String user, String workerId, List<String> command, Map<String, String> env,
            String logPrefix, File targetDir) throws IOException, InterruptedException {
        Optional<String> name = find(workerId);
        if (name.isEmpty()) {
            LOG.warn("{}: worker {} has no container; nothing to profile", logPrefix, workerId);
            return false;
        }
        List<String> args = new ArrayList<>(List.of("exec", "--workdir", targetDir.getAbsolutePath()));
        if (env != null) {
            env.forEach((key, value) -> args.addAll(List.of("--env", key + "=" + value)));
        }
        args.add(name.get());
        args.add("--");
        args.addAll(command);
        try (LogLines out = new LogLines(LOG, logPrefix); LogLines err = new LogLines(LOG, logPrefix)) {
            int code = agent.stream(args, Map.of(), out, err);
            LOG.info("{}: {} in {} exited with {}", logPrefix, command, name.get(), code);
            return code == 0;
        }
    }

    @Override
    public boolean isResourceManaged() {
        return true;
    }

    /** Storm's own runc manager names a worker's container so. */
    static String containerName(int port, String workerId) {
        return port + "-" + workerId;
    }

    private Optional<String> find(String workerId) throws IOException {
        String known = containers.get(workerId);
        if (known != null) {
            return Optional.of(known);
        }
        return describe(workerId).map(node -> node.path("name").asText());
    }

    /** The worker's container as {@code ps --all --json} shows it (after a supervisor restart too). */
    private Optional<JsonNode> describe(String workerId) throws IOException {
        AgentConnection.Result listed = agent.call(List.of("ps", "--all", "--json"), Map.of());
        if (!listed.ok()) {
            throw new IOException("ps through the agent at " + agent.socket() + " failed: " + listed.err().strip());
        }
        for (JsonNode node : JSON.readTree(listed.out())) {
            String name = node.path("name").asText();
            if (name.endsWith("-" + workerId) && name.substring(0, name.length() - workerId.length() - 1)
                    .chars().allMatch(Character::isDigit)) {
                return Optional.of(node);
            }
        }
        return Optional.empty();
    }

    private static boolean notRunning(AgentConnection.Result result) {
        return result.err().contains("not running") || result.err().contains("only a running container");
    }

    private static boolean gone(AgentConnection.Result result) {
        return result.err().contains("No container");
    }
}
