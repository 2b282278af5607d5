package dev.runcible.core.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.api.ImageReference;
import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.Runcible;
import dev.runcible.core.cgroup.CgroupStats;
import dev.runcible.core.cgroup.ContainerCgroups;
import dev.runcible.core.container.ContainerManager;
import dev.runcible.core.container.EventLog;
import dev.runcible.core.container.ExecRequest;
import dev.runcible.core.container.RunOptions;
import dev.runcible.core.container.RunRequest;
import dev.runcible.core.runtime.BindMount;
import dev.runcible.core.runtime.Limits;
import dev.runcible.core.runtime.Network;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a cluster scheduler asks of a node, on real containers: run options, exec (jstack and jcmd against a real JVM
 * in a container), stats, kills of exited containers, empty cgroups, and exit events without a thread per container.
 */
class SchedulerIT {
    private static RealNode node;
    private static Path config;
    private static Path jvmTmp;
    private static Runcible runcible;

    @BeforeAll
    static void setUp() throws Exception {
        node = RealNode.create();
        jvmTmp = Files.createDirectories(node.base.resolve("jvm-tmp"));
        Files.setPosixFilePermissions(jvmTmp, PosixFilePermissions.fromString("rwxrwxrwx"));
        Map<String, String> settings = Map.of("runcible.mounts.allowed-ro", "/usr," + jdkConfiguration(),
                "runcible.mounts.allowed-rw", jvmTmp.toString());
        config = node.configFile("scheduler", settings);
        runcible = node.open(settings);
    }

    /** Where the JDK's configuration really is: Debian links conf/ to /etc/java-17-openjdk. */
    private static Path jdkConfiguration() throws Exception {
        return Path.of(System.getProperty("java.home"), "conf", "security", "java.security").toRealPath().getParent()
                .getParent();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (runcible != null) {
            runcible.close();
        }
        if (node != null) {
            node.close();
        }
    }

    @AfterEach
    void removeEverything() throws Exception {
        node.removeAllContainers();
    }

    @Test
    void workdirGroupsNumericUserCgroupParentAndCpusetReachTheContainer() throws Exception {
        Cli cli = Cli.run(config, "run", "--rm", "--workdir", "/tmp", "--group-add", "4242", "--user", "3000:3001",
                "--cgroup-parent", "sched/it", "--cpuset-cpus", "0", "--cpuset-mems", "0", RealNode.IMAGE, "--",
                "sh", "-c", "pwd; id -u; id -G; grep -E 'Cpus_allowed_list|Mems_allowed_list' /proc/self/status; "
                        + "grep -c /sched/it/ /proc/self/cgroup");
        assertThat(cli.exitCode()).as(cli.err()).isZero();
        List<String> lines = cli.out().lines().toList();
        assertThat(lines.subList(0, 3)).containsExactly("/tmp", "3000", "3001 4242");
        assertThat(lines.get(3)).matches("Cpus_allowed_list:\\s+0");
        assertThat(lines.get(4)).matches("Mems_allowed_list:\\s+0");
        assertThat(Integer.parseInt(lines.get(5))).as("cgroup lines under sched/it").isPositive();
        // In every controller: the container's cgroup is <parent>/<id>.
        ContainerManager containers = runcible.containers();
        String id = containers.run(RunRequest.of(ImageReference.parse(RealNode.IMAGE), List.of("sleep", "30"))
                .withOptions(RunOptions.NONE.withCgroupParent("sched/it"))).record().id();
        List<Path> dirs = new ContainerCgroups(ContainerCgroups.ROOT).directories("/sched/it/" + id);
        assertThat(dirs).isNotEmpty().allSatisfy(dir -> assertThat(dir.toString()).endsWith("/sched/it/" + id));
        assertThat(containers.find(id).record().cgroupsPath()).isEqualTo("/sched/it/" + id);
        containers.remove(id, true);
        assertThat(new ContainerCgroups(ContainerCgroups.ROOT).directories("/sched/it/" + id)).isEmpty();
        Cli badCpu = Cli.run(config, "run", "--cpuset-cpus", "4096", RealNode.IMAGE);
        assertThat(badCpu.exitCode()).isEqualTo(125);
        assertThat(badCpu.err()).contains("--cpuset-cpus '4096'").contains("not online");
        Cli badParent = Cli.run(config, "run", "--cgroup-parent", "../escape", RealNode.IMAGE);
        assertThat(badParent.err()).contains("Invalid --cgroup-parent '../escape'");
        node.assertNothingLeftRunning();
    }

    @Test
    void statsKillOfAnExitedContainerAndAnEmptyCgroup() throws Exception {
        ContainerManager containers = runcible.containers();
        String id = containers.run(RunRequest.of(ImageReference.parse(RealNode.IMAGE),
                List.of("sh", "-c", "sleep 300 & sleep 300")).withOptions(RunOptions.NONE)).record().id();
        CgroupStats stats = containers.stats(id);
        for (long deadline = System.currentTimeMillis() + 5000; stats.pids() != 2
                && System.currentTimeMillis() < deadline; stats = containers.stats(id)) {
            // The shell forks its first sleep just after it starts, and runc's init threads leave just after it.
            Thread.sleep(20);
        }
        assertThat(stats.pids()).isEqualTo(2);
        assertThat(stats.pidsLimit()).hasValue(4096);
        assertThat(stats.memoryBytes()).isPositive();
        assertThat(containers.processesGone(id)).isFalse();
        assertThat(Cli.run(config, "ps", "--json").out()).contains("\"processesGone\" : false");
        assertThat(containers.kill(id, "KILL")).isTrue();
        assertThat(containers.onExit(id).get(10, TimeUnit.SECONDS)).isEqualTo(137);
        assertThat(containers.kill(id, "KILL")).as("a kill of an exited container is a no-op").isFalse();
        assertThat(containers.processesGone(id)).isTrue();
        assertThat(Cli.run(config, "ps", "--all", "--json").out()).contains("\"processesGone\" : true");
        assertThatThrownBy(() -> containers.stats(id)).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("exited");
        Cli kill = Cli.run(config, "kill", id);
        assertThat(kill.exitCode()).isEqualTo(125);
        assertThat(kill.err()).contains("is exited, not running");
    }

    @Test
    void execRunsInTheContainersNamespacesCgroupAndConfinementWithItsExitCode() throws Exception {
        Cli started = Cli.run(config, "run", "-d", "--name", "target", RealNode.IMAGE, "--", "sleep", "300");
        assertThat(started.exitCode()).as(started.err()).isZero();
        String id = started.out().strip();
        Cli exec = Cli.run(config, "exec", "--env", "WHO=exec", "--workdir", "/tmp", "target", "--", "sh", "-c",
                "echo $WHO $(id -u) $(pwd); echo to-stderr >&2; grep -E '^(Seccomp|NoNewPrivs|CapEff):' "
                        + "/proc/self/status; cat /proc/1/cmdline | busybox tr '\\0' ' '; echo; grep -c " + id
                        + " /proc/self/cgroup; exit 7");
        assertThat(exec.exitCode()).as(exec.err()).isEqualTo(7);
        assertThat(exec.err()).isEqualTo("to-stderr\n");
        List<String> lines = exec.out().lines().toList();
        assertThat(lines.get(0)).isEqualTo("exec 1000 /tmp");
        assertThat(lines.subList(1, 4)).anyMatch(l -> l.matches("Seccomp:\\s+2"))
                .anyMatch(l -> l.matches("NoNewPrivs:\\s+1")).anyMatch(l -> l.matches("CapEff:\\s+0+"));
        assertThat(lines.get(4)).as("the container's own pid 1: its pid namespace").isEqualTo("sleep 300 ");
        assertThat(Integer.parseInt(lines.get(5))).as("in the container's cgroup").isPositive();
        assertThat(Cli.run(config, "exec", "target", "no-such-command").exitCode()).isEqualTo(127);
        Cli asRoot = Cli.run(config, "exec", "--user", "0", "target", "id");
        assertThat(asRoot.exitCode()).isEqualTo(125);
        assertThat(asRoot.err()).contains("runcible.allow-root");
        assertThat(Cli.run(config, "exec", "--user", "2000:2000", "target", "id", "-u").out()).isEqualTo("2000\n");
        Cli.run(config, "kill", "target");
        Cli.run(config, "wait", "target");
        Cli exited = Cli.run(config, "exec", "target", "true");
        assertThat(exited.exitCode()).isEqualTo(125);
        assertThat(exited.err()).contains("not running");
    }

    @Test
    void jstackAndJcmdReachARealJvmInAContainer() throws Exception {
        Path javaHome = Path.of(System.getProperty("java.home")).toRealPath();
        Path jcmd = javaHome.resolve("bin/jcmd");
        assertThat(javaHome.startsWith("/usr")).as("the test binds /usr: the JDK must be under it").isTrue();
        assertThat(jcmd).exists();
        Files.writeString(jvmTmp.resolve("Sleeper.java"), "public class Sleeper { public static void main(String[] a)"
                + " throws Exception { Thread.currentThread().setName(\"sleeper-main\"); Thread.sleep(600_000); } }");
        Files.setPosixFilePermissions(jvmTmp.resolve("Sleeper.java"), PosixFilePermissions.fromString("rw-r--r--"));
        List<BindMount> binds = new ArrayList<>(List.of(new BindMount(Path.of("/usr"), "/usr", true),
                new BindMount(Path.of("/usr/lib"), "/lib", true), new BindMount(jvmTmp, "/tmp", false)));
        if (!jdkConfiguration().startsWith("/usr")) {
            binds.add(new BindMount(jdkConfiguration(), jdkConfiguration().toString(), true));
        }
        if (Files.isDirectory(Path.of("/usr/lib64"))) {
            binds.add(new BindMount(Path.of("/usr/lib64"), "/lib64", true));
        }
        String java = javaHome.resolve("bin/java").toString();
        RunRequest request = new RunRequest(ImageReference.parse(RealNode.IMAGE), Optional.of("jvm"), List.of("sh",
                "-c", java + " -Xmx64m /tmp/Sleeper.java & echo $! > /tmp/jvm.pid; wait"), List.of(), Limits.NONE,
                binds, Optional.empty(), Network.HOST, false, false);
        ContainerManager containers = runcible.containers();
        containers.run(request);
        String pid = null;
        Instant deadline = Instant.now().plusSeconds(60);
        String last = "";
        while (Instant.now().isBefore(deadline)) {
            Path pidFile = jvmTmp.resolve("jvm.pid");
            if (pid == null && Files.exists(pidFile) && !Files.readString(pidFile).isBlank()) {
                pid = Files.readString(pidFile).strip();
            }
            if (pid != null) {
                // The source launcher compiles first: the program's own thread shows once it runs.
                Output probe = exec(containers, javaHome.resolve("bin/jstack").toString(), pid);
                last = probe.err + probe.out;
                if (probe.code == 0 && probe.out.contains("\"sleeper-main\"")) {
                    break;
                }
            }
            Thread.sleep(300);
        }
        assertThat(pid).as("the JVM's pid inside the container").isNotNull();
        Output stack = exec(containers, javaHome.resolve("bin/jstack").toString(), pid);
        assertThat(stack.code).as(stack.err + last).isZero();
        assertThat(stack.out).contains("\"sleeper-main\"").contains("java.lang.Thread.sleep");
        Output heap = exec(containers, jcmd.toString(), pid, "GC.heap_info");
        assertThat(heap.code).as(heap.err).isZero();
        assertThat(heap.out).containsAnyOf("garbage-first heap", "def new generation", "Metaspace");
    }

    private record Output(int code, String out, String err) {
    }

    private static Output exec(ContainerManager containers, String... command) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = containers.exec("jvm", ExecRequest.of(List.of(command)), out, err);
        return new Output(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void twentyExitsAreEachReportedOnceWithTheirCodeWithinASecond() throws Exception {
        ContainerManager containers = runcible.containers();
        Map<String, List<Duration>> delays = new ConcurrentHashMap<>();
        List<EventLog.Event> exits = new CopyOnWriteArrayList<>();
        Map<String, Integer> expected = new HashMap<>();
        Map<String, CompletableFuture<Integer>> futures = new HashMap<>();
        try (AutoCloseable subscription = containers.subscribe(event -> {
            if (event.type().equals("exited")) {
                exits.add(event);
                delays.computeIfAbsent(event.id(), id -> new CopyOnWriteArrayList<>())
                        .add(Duration.between(event.time(), Instant.now()));
            }
        })) {
            Instant start = Instant.now();
            for (int i = 0; i < 20; i++) {
                // Each sleeps until a moment after the last has started, so they exit close together.
                long wake = start.plusSeconds(8).toEpochMilli() / 1000;
                RunRequest request = new RunRequest(ImageReference.parse(RealNode.IMAGE), Optional.empty(),
                        List.of("sh", "-c", "while [ $(busybox date +%s) -lt " + wake + " ]; do sleep 0.1; done; exit "
                                + (10 + i)), List.of(), Limits.NONE, List.of(), Optional.empty(), Network.HOST, false,
                        false);
                String id = containers.run(request).record().id();
                expected.put(id, 10 + i);
                futures.put(id, containers.onExit(id));
            }
            for (Map.Entry<String, CompletableFuture<Integer>> future : futures.entrySet()) {
                assertThat(future.getValue().get(30, TimeUnit.SECONDS)).isEqualTo(expected.get(future.getKey()));
            }
            Thread.sleep(500);
        }
        assertThat(exits).hasSize(20);
        for (EventLog.Event exit : exits) {
            assertThat(exit.exitCode()).hasValue(expected.get(exit.id()));
        }
        assertThat(delays.keySet()).isEqualTo(expected.keySet());
        delays.values().forEach(list -> assertThat(list).hasSize(1)
                .allSatisfy(delay -> assertThat(delay).isLessThan(Duration.ofSeconds(1))));
        assertThat(Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("runcible-events")))
                .as("one follower for every container").hasSize(1);
    }
}
