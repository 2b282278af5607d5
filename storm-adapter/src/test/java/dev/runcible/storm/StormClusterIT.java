package dev.runcible.storm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.storm.StormSubmitter;
import org.apache.storm.generated.ExecutorSummary;
import org.apache.storm.generated.KillOptions;
import org.apache.storm.generated.NodeInfo;
import org.apache.storm.generated.ProfileAction;
import org.apache.storm.generated.ProfileRequest;
import org.apache.storm.generated.TopologySummary;
import org.apache.storm.utils.NimbusClient;
import org.junit.jupiter.api.Test;

/**
 * A real Storm 2.8.3 cluster (ZooKeeper, Nimbus, and a Supervisor as an unprivileged user) whose workers the
 * adapter runs through a real Runcible agent (as root, admitting that user) in a worker image with a JRE. A word
 * count topology written here runs in them; the test kills a worker's JVM, asks for a jstack dump through Nimbus,
 * and kills the topology, checking the node after each step.
 */
class StormClusterIT {
    private static final String USER = "rcstorm";
    private static final String PARENT = "runcible-storm-it";
    private static final Pattern CONTAINER_NAME = Pattern.compile("\"name\"\\s*:\\s*\"(\\d+-[0-9a-f-]{36})\"");

    private AgentNode node;

    @Test
    void stormRunsItsWorkersInRuncibleContainers() throws Exception {
        AgentNode.requirePrerequisites();
        AgentNode.run("sh", "-c", "id " + USER + " >/dev/null 2>&1 || useradd -M -N -s /usr/sbin/nologin " + USER);
        String uid = AgentNode.run("id", "-u", USER).strip();
        String gid = AgentNode.run("id", "-g", USER).strip();
        try (AgentNode node = AgentNode.create(PARENT, base -> Map.of(
                "runcible.agent.allowed-users", USER, "runcible.agent.run-as-users", uid,
                "runcible.mounts.allowed-ro", base.resolve("storm").toString(),
                "runcible.mounts.allowed-rw", base.resolve("storm/data") + "," + base.resolve("storm/logs")))) {
            node.importImage(AgentNode.WORKER_IMAGE, true, Map.of(USER, uid + ":" + gid));
            node.startAgent();
            try (StormCluster cluster = StormCluster.create(node.base, USER, String.join("\n",
                    "runcible.agent.socket: \"" + node.socket + "\"",
                    "storm.oci.image: \"" + AgentNode.WORKER_IMAGE + "\"",
                    "storm.oci.allowed.images: [\"" + AgentNode.WORKER_IMAGE + "\"]",
                    "storm.oci.cgroup.parent: \"/" + PARENT + "\"",
                    "storm.worker.cgroup.cpu.limit: 200"))) {
                cluster.start(uid, gid);
                exercise(node, cluster, uid);
            } finally {
                System.clearProperty("storm.jar");
            }
        } finally {
            new ProcessBuilder("userdel", USER).start().waitFor();
        }
    }

    private void exercise(AgentNode node, StormCluster cluster, String uid) throws Exception {
        this.node = node;
        System.setProperty("storm.jar", cluster.topologyJar().toString());
        Map<String, Object> conf = cluster.clientConf();
        conf.put("topology.workers", 1);
        StormSubmitter.submitTopology("word-count", conf, WordCount.topology());

        String first = await("a worker container", Duration.ofMinutes(4), cluster, () -> runningWorker(node));
        long workerPid = await("the worker's JVM", Duration.ofMinutes(2), cluster, () -> workerJvm(cluster));
        assertThat(status(workerPid, "Uid:")).as("the worker runs as the submitting user").startsWith(uid + "\t");
        assertThat(Files.readString(Path.of("/proc", Long.toString(workerPid), "cgroup")))
                .as("the worker's cgroups").contains("/" + PARENT + "/");
        assertThat(node.cli("ps", "--json")).containsPattern("\"owner\"\\s*:\\s*" + uid + "\\b");
        await("counts in the worker's log", Duration.ofMinutes(3), cluster,
                () -> countLines(cluster, "storm") >= 10 ? true : null);

        // A worker whose JVM is killed: Storm hears 137 through the exit callback and starts another.
        AgentNode.run("kill", "-KILL", Long.toString(workerPid));
        await("the exit code in the supervisor's log", Duration.ofMinutes(2), cluster,
                () -> cluster.daemonLog("supervisor").contains("exited with code: 137") ? true : null);
        String second = await("a new worker container", Duration.ofMinutes(4), cluster,
                () -> runningWorker(node).filter(name -> !name.equals(first)).orElse(null));
        assertThat(second).isNotEqualTo(first);
        long restarted = await("the new worker's JVM", Duration.ofMinutes(2), cluster,
                () -> workerJvm(cluster).filter(pid -> pid != workerPid).orElse(null));
        assertThat(restarted).isNotEqualTo(workerPid);
        await("counting again from one", Duration.ofMinutes(3), cluster,
                () -> occurrences(cluster, WordCount.LOG_MARK + " storm 1") >= 2 ? true : null);

        // A jstack dump through Storm's own path: Nimbus, the supervisor, the profiler command in the container.
        try (NimbusClient nimbus = NimbusClient.getConfiguredClient(cluster.clientConf())) {
            TopologySummary topology = nimbus.getClient().getTopologySummaryByName("word-count");
            ExecutorSummary executor = nimbus.getClient().getTopologyInfo(topology.get_id()).get_executors().get(0);
            // As Storm's UI asks: the worker's host and port.
            ProfileRequest request = new ProfileRequest(new NodeInfo(executor.get_host(),
                    Set.of((long) executor.get_port())),
                    ProfileAction.JSTACK_DUMP);
            request.set_time_stamp(System.currentTimeMillis() + 120_000);
            nimbus.getClient().setWorkerProfiler(topology.get_id(), request);
            Path artifacts = cluster.logDir.resolve("workers-artifacts").resolve(topology.get_id())
                    .resolve(Integer.toString(executor.get_port()));
            String dump = await("a jstack dump in " + artifacts, Duration.ofMinutes(2), cluster,
                    () -> dump(artifacts));
            assertThat(dump).contains("Full thread dump").contains("org.apache.storm");

            nimbus.getClient().killTopologyWithOpts("word-count", new KillOptions());
        }
        await("no container left", Duration.ofMinutes(3), cluster,
                () -> node.cli("ps", "--all", "--json").strip().matches("\\[\\s*\\]") ? true : null);
        await("nothing left mounted, no loop device, no cgroup", Duration.ofMinutes(1), cluster,
                () -> node.mountsLeft().isEmpty() && node.loopDevicesLeft().isEmpty()
                        && node.cgroupsLeft().isEmpty() ? true : null);
    }

    private static java.util.Optional<String> runningWorker(AgentNode node) throws Exception {
        String listed = node.cli("ps", "--json");
        Matcher matcher = CONTAINER_NAME.matcher(listed);
        boolean running = listed.matches("(?s).*\"state\"\\s*:\\s*\"running\".*");
        return matcher.find() && running ? java.util.Optional.of(matcher.group(1)) : java.util.Optional.empty();
    }

    /** The host pid of the worker JVM (not the log writer in front of it) of this cluster. */
    private static java.util.Optional<Long> workerJvm(StormCluster cluster) throws Exception {
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            for (Path process : processes.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                String commandLine;
                try {
                    commandLine = Files.readString(process.resolve("cmdline")).replace('\0', ' ');
                } catch (java.io.IOException gone) {
                    continue;
                }
                if (commandLine.contains("org.apache.storm.daemon.worker.Worker")
                        && !commandLine.contains("org.apache.storm.LogWriter")
                        && commandLine.contains(cluster.localDir.toString())) {
                    return java.util.Optional.of(Long.parseLong(process.getFileName().toString()));
                }
            }
        }
        return java.util.Optional.empty();
    }

    private static String status(long pid, String field) throws Exception {
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                .filter(line -> line.startsWith(field)).findFirst().orElseThrow().substring(field.length()).strip();
    }

    private static List<Path> workerLogs(StormCluster cluster) throws Exception {
        Path artifacts = cluster.logDir.resolve("workers-artifacts");
        if (!Files.isDirectory(artifacts)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(artifacts)) {
            return files.filter(f -> f.getFileName().toString().equals("worker.log")).toList();
        }
    }

    /** The highest count the bolt logged for {@code word}. */
    private static int countLines(StormCluster cluster, String word) throws Exception {
        int highest = 0;
        Pattern count = Pattern.compile(WordCount.LOG_MARK + " " + word + " (\\d+)$", Pattern.MULTILINE);
        for (Path log : workerLogs(cluster)) {
            Matcher matcher = count.matcher(Files.readString(log));
            while (matcher.find()) {
                highest = Math.max(highest, Integer.parseInt(matcher.group(1)));
            }
        }
        return highest;
    }

    private static int occurrences(StormCluster cluster, String line) throws Exception {
        int found = 0;
        Pattern pattern = Pattern.compile(Pattern.quote(line) + "$", Pattern.MULTILINE);
        for (Path log : workerLogs(cluster)) {
            found += (int) pattern.matcher(Files.readString(log)).results().count();
        }
        return found;
    }

    private static String dump(Path artifacts) throws Exception {
        if (!Files.isDirectory(artifacts)) {
            return null;
        }
        try (Stream<Path> files = Files.list(artifacts)) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".txt")).toList()) {
                String text = Files.readString(file);
                if (text.contains("Full thread dump")) {
                    return text;
                }
            }
        }
        return null;
    }

    /** Polls {@code probe} until it gives a value (an empty Optional or null is none yet). */
    @SuppressWarnings("unchecked")
    private <T> T await(String what, Duration limit, StormCluster cluster, Callable<?> probe)
            throws Exception {
        Instant deadline = Instant.now().plus(limit);
        List<String> errors = new ArrayList<>();
        while (Instant.now().isBefore(deadline)) {
            Object value = probe.call();
            if (value instanceof java.util.Optional<?> optional) {
                value = optional.orElse(null);
            }
            if (value != null) {
                return (T) value;
            }
            Thread.sleep(500);
        }
        errors.add("supervisor:\n" + String.join("\n", cluster.daemonLog("supervisor").lines()
                .filter(line -> line.contains("ERROR") || line.contains("WARN") || line.contains("Exception")
                        || line.contains("Runcible") || line.contains("runcible") || line.startsWith("Caused by"))
                .limit(80).toList()));
        errors.add("nimbus:\n" + tail(cluster.daemonLog("nimbus")));
        Matcher names = CONTAINER_NAME.matcher(node.cli("ps", "--all", "--json"));
        while (names.find()) {
            errors.add("container " + names.group(1) + ":\n" + tail(node.cli("logs", names.group(1))));
        }
        for (Path log : workerLogs(cluster)) {
            errors.add(log + ":\n" + tail(Files.readString(log)));
        }
        throw new AssertionError("no " + what + " within " + limit + "\n" + String.join("\n", errors));
    }

    private static String tail(String log) {
        return log.length() > 6000 ? log.substring(log.length() - 6000) : log;
    }
}
