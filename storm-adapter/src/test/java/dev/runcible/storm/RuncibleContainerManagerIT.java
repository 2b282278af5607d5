package dev.runcible.storm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.apache.storm.utils.ConfigUtils;
import org.apache.storm.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every method of the adapter against a real agent (as root, in a JVM of its own) running real containers of a
 * busybox image, as Storm's supervisor calls them: the worker's user, directory, environment, mounts and limits seen
 * from inside and in the host's cgroups; kill, forceKill, areAllProcessesDead, memory, profiling, cleanup; and exit
 * codes through the callback, also for an exit while the agent was down.
 */
class RuncibleContainerManagerIT {
    private static final String IMAGE = "storm/busybox:1";
    private static final String USER = "rcworker";
    private static final String GROUP = "rcextra";
    private static final String PARENT = "runcible-storm-unit";

    private static AgentNode node;
    private static Path stormHome;
    private static String uid;
    private static String gid;
    private static String extraGid;
    private static Map<String, Object> conf;
    private RuncibleContainerManager manager;
    private final List<String> workers = new ArrayList<>();

    @BeforeAll
    static void startAgent() throws Exception {
        AgentNode.requirePrerequisites();
        AgentNode.run("sh", "-c", "getent group " + GROUP + " >/dev/null || groupadd " + GROUP);
        AgentNode.run("sh", "-c", "id " + USER + " >/dev/null 2>&1 || useradd -M -N -G " + GROUP
                + " -s /usr/sbin/nologin " + USER);
        uid = AgentNode.run("id", "-u", USER).strip();
        gid = AgentNode.run("id", "-g", USER).strip();
        extraGid = AgentNode.run("getent", "group", GROUP).split(":")[2];
        node = AgentNode.create(PARENT, base -> Map.of("runcible.mounts.allowed-rw", base.resolve("storm").toString()));
        node.importImage(IMAGE, false, Map.of(USER, uid + ":" + gid));
        node.startAgent();
        stormHome = Files.createDirectories(node.base.resolve("storm/home"));
        Files.writeString(stormHome.resolve("RELEASE"), "2.8.3\n");
        System.setProperty(ConfigUtils.STORM_HOME, stormHome.toString());
        System.setProperty("storm.log.dir", node.base.resolve("storm/logs").toString());
        conf = new HashMap<>(Utils.readDefaultConfig());
        conf.put("storm.local.dir", node.base.resolve("storm/data").toString());
        conf.put(StormSettings.AGENT_SOCKET, node.socket.toString());
        conf.put("storm.oci.image", IMAGE);
        conf.put("storm.oci.allowed.images", List.of(IMAGE));
        conf.put("storm.oci.cgroup.parent", "/" + PARENT);
        conf.put("storm.cgroup.memory.enforcement.enable", true);
        Files.createDirectories(Path.of(ConfigUtils.supervisorLocalDir(conf)));
    }

    @AfterAll
    static void stopAgent() throws Exception {
        if (node != null) {
            node.close();
        }
        new ProcessBuilder("userdel", USER).start().waitFor();
        new ProcessBuilder("groupdel", GROUP).start().waitFor();
        System.clearProperty(ConfigUtils.STORM_HOME);
        System.clearProperty("storm.log.dir");
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (String worker : workers) {
            manager.cleanup(USER, worker, -1);
        }
        assertThat(node.cli("ps", "--all", "--json").strip()).matches("\\[\\s*\\]");
        assertThat(node.mountsLeft()).isEmpty();
        assertThat(node.loopDevicesLeft()).isEmpty();
        assertThat(node.cgroupsLeft()).isEmpty();
    }

    private RuncibleContainerManager prepared() throws IOException {
        manager = new RuncibleContainerManager();
        manager.prepare(conf);
        return manager;
    }

    /** Makes the directories Storm's supervisor makes for a worker, owned by the worker's user. */
    private File workerDirs(String workerId, String topology, int port) throws Exception {
        workers.add(workerId);
        for (String dir : List.of(ConfigUtils.workerPidsRoot(conf, workerId), ConfigUtils.workerTmpRoot(conf, workerId),
                ConfigUtils.workerHeartbeatsRoot(conf, workerId),
                ConfigUtils.workerArtifactsRoot(conf, topology, port))) {
            Files.createDirectories(Path.of(dir));
        }
        Path userFile = Path.of(ConfigUtils.workerUserFile(conf, workerId));
        Files.createDirectories(userFile.getParent());
        Files.writeString(userFile, USER);
        AgentNode.run("chown", "-R", uid + ":" + gid, ConfigUtils.workerRoot(conf, workerId),
                ConfigUtils.workerArtifactsRoot(conf, topology, port));
        return new File(ConfigUtils.workerRoot(conf, workerId));
    }

    @Test
    void aWorkerRunsAsItsUserInItsDirectoryWithStormsMountsAndLimits() throws Exception {
        RuncibleContainerManager manager = prepared();
        String workerId = UUID.randomUUID().toString();
        File dir = workerDirs(workerId, "topo-1", 6700);
        manager.reserveResourcesForWorker(workerId, 96, 50, null);
        List<Integer> codes = new CopyOnWriteArrayList<>();
        String script = String.join("; ", "echo ids $(id -u) $(id -g) $(id -G)", "echo cwd $(pwd)",
                "echo env $WORKER_ENV", "touch heartbeats/beat && echo worker-dir-writable",
                "touch /tmp/t && echo tmp-writable", "touch " + stormHome + "/x 2>/dev/null || echo home-read-only",
                "cat " + ConfigUtils.workerUserFile(conf, workerId), "trap 'exit 42' TERM", "echo ready",
                "sleep 600 & wait");
        manager.launchWorkerProcess(USER, "topo-1", Map.of(), 6700, workerId, List.of("sh", "-c", script),
                Map.of("WORKER_ENV", "from-storm"), "Worker Process " + workerId + " ", codes::add, dir);
        String name = "6700-" + workerId;
        await(() -> logs(name).contains("ready"));
        String out = logs(name);
        assertThat(out).contains("ids " + uid + " " + gid + " ").contains(extraGid)
                .contains("cwd " + dir).contains("env from-storm").contains("worker-dir-writable")
                .contains("tmp-writable").contains("home-read-only").contains(USER);
        assertThat(Path.of(ConfigUtils.workerTmpRoot(conf, workerId), "t")).exists();
        String id = containerId(name);
        assertThat(cgroupValue("cpu", id, "cpu.cfs_quota_us")).isEqualTo("50000");
        assertThat(cgroupValue("memory", id, "memory.limit_in_bytes")).isEqualTo(Long.toString(96L << 20));
        assertThat(manager.getMemoryUsage(USER, workerId, 6700)).isPositive();
        assertThat(manager.getSystemFreeMemoryMb()).isPositive();
        assertThat(manager.areAllProcessesDead(USER, workerId)).isFalse();

        manager.kill(USER, workerId);
        await(() -> !codes.isEmpty());
        await(() -> areAllDead(manager, workerId));
        manager.forceKill(USER, workerId);
        Thread.sleep(500);
        assertThat(codes).as("the exit callback, called once with the worker's own code").containsExactly(42);
    }

    /** Launches a worker of {@code topology} running {@code script}, which prints "ready" once it runs. */
    private String launchReady(String topology, int port, String script, List<Integer> codes) throws Exception {
        String workerId = UUID.randomUUID().toString();
        File dir = workerDirs(workerId, topology, port);
        manager.launchWorkerProcess(USER, topology, Map.of(), port, workerId, List.of("sh", "-c", script), Map.of(),
                "w ", codes::add, dir);
        await(() -> logs(port + "-" + workerId).contains("ready"));
        return workerId;
    }

    @Test
    void forceKillEndsAWorkerThatIgnoresTerm() throws Exception {
        RuncibleContainerManager manager = prepared();
        List<Integer> codes = new CopyOnWriteArrayList<>();
        String workerId = launchReady("topo-2", 6701, "trap '' TERM; echo ready; while true; do sleep 1; done",
                codes);
        manager.kill(USER, workerId);
        Thread.sleep(1000);
        assertThat(manager.areAllProcessesDead(USER, workerId)).isFalse();
        manager.forceKill(USER, workerId);
        await(() -> areAllDead(manager, workerId));
        await(() -> !codes.isEmpty());
        assertThat(codes).containsExactly(137);
    }

    @Test
    void profilingCommandsRunInTheWorkersContainer() throws Exception {
        RuncibleContainerManager manager = prepared();
        String workerId = launchReady("topo-3", 6702, "echo ready; exec sleep 600", new ArrayList<>());
        Path artifacts = Path.of(ConfigUtils.workerArtifactsRoot(conf, "topo-3", 6702));
        assertThat(manager.runProfilingCommand(USER, workerId, List.of("sh", "-c",
                "echo dump of $(cat /proc/1/comm) as $(id -u) in $(pwd) > dump.txt"), Map.of(), "profile ",
                artifacts.toFile())).isTrue();
        assertThat(Files.readString(artifacts.resolve("dump.txt")).strip())
                .isEqualTo("dump of sleep as " + uid + " in " + artifacts);
        assertThat(manager.runProfilingCommand(USER, workerId, List.of("false"), Map.of(), "profile ",
                artifacts.toFile())).isFalse();
    }

    @Test
    void anExitWhileTheAgentIsDownReachesTheCallbackOnceWithItsCode() throws Exception {
        RuncibleContainerManager manager = prepared();
        List<Integer> codes = new CopyOnWriteArrayList<>();
        String workerId = launchReady("topo-4", 6703,
                "echo ready; while [ ! -e /tmp/stop ]; do sleep 0.1; done; exit 7", codes);
        node.stopAgent();
        try {
            Files.writeString(Path.of(ConfigUtils.workerTmpRoot(conf, workerId), "stop"), "");
            Thread.sleep(2000);
            assertThat(codes).isEmpty();
        } finally {
            node.startAgent();
        }
        await(() -> !codes.isEmpty());
        Thread.sleep(1500);
        assertThat(codes).containsExactly(7);
    }

    @Test
    void aBadImageOrUserIsAClearErrorAndStartsNothing() throws Exception {
        RuncibleContainerManager manager = prepared();
        String workerId = UUID.randomUUID().toString();
        File dir = workerDirs(workerId, "topo-5", 6704);
        assertThatThrownBy(() -> manager.launchWorkerProcess(USER, "topo-5",
                Map.of("topology.oci.image", "other/image:9"), 6704, workerId, List.of("true"), Map.of(), "w ",
                code -> { }, dir)).isInstanceOf(IOException.class).hasMessageContaining("other/image:9")
                .hasMessageContaining("storm.oci.allowed.images");
        assertThatThrownBy(() -> manager.launchWorkerProcess("no-such-user-rc", "topo-5", Map.of(), 6704, workerId,
                List.of("true"), Map.of(), "w ", code -> { }, dir)).isInstanceOf(IOException.class)
                .hasMessageContaining("no-such-user-rc");
        assertThat(node.cli("ps", "--all", "--json").strip()).matches("\\[\\s*\\]");
        assertThat(manager.areAllProcessesDead(USER, workerId)).isTrue();
        manager.forceKill(USER, workerId);
    }

    private static boolean areAllDead(RuncibleContainerManager manager, String workerId) {
        try {
            return manager.areAllProcessesDead(USER, workerId);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String logs(String name) {
        try {
            return node.cli("logs", name);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String containerId(String name) throws Exception {
        java.util.regex.Matcher matcher = java.util.regex.Pattern.compile("\"id\"\\s*:\\s*\"([0-9a-f]+)\",\\s*\"name\""
                + "\\s*:\\s*\"" + name + "\"").matcher(node.cli("ps", "--json"));
        assertThat(matcher.find()).as("container " + name).isTrue();
        return matcher.group(1);
    }

    /** A cgroup v1 file of the container in the named controller. */
    private static String cgroupValue(String controller, String id, String file) throws Exception {
        for (String hierarchy : List.of(controller, controller + ",cpuacct", "cpu,cpuacct")) {
            Path path = Path.of("/sys/fs/cgroup", hierarchy, PARENT, id, file);
            if (Files.exists(path)) {
                return Files.readString(path).strip();
            }
        }
        throw new AssertionError("no " + file + " for " + id + " in the " + controller + " hierarchy");
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (!condition.getAsBoolean()) {
            assertThat(System.currentTimeMillis()).as("waited 30 s").isLessThan(deadline);
            Thread.sleep(100);
        }
    }
}
