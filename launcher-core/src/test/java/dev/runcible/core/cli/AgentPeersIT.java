package dev.runcible.core.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.runcible.api.ImageReference;
import dev.runcible.client.AgentProtocol;
import dev.runcible.core.Runcible;
import dev.runcible.core.container.ContainerInfo;
import dev.runcible.core.container.ContainerManager;
import dev.runcible.core.container.RunRequest;
import dev.runcible.core.image.Json;
import dev.runcible.core.it.Cli;
import dev.runcible.core.it.RealNode;
import dev.runcible.core.runtime.Limits;
import dev.runcible.core.runtime.Network;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
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
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real agent process as root, serving two unprivileged users the test creates: one that
 * {@code runcible.agent.allowed-users} admits and one it does not. Their clients are the real client JVM, run with
 * the users' own credentials ({@code setpriv}).
 */
class AgentPeersIT {
    private static final String SUFFIX = UUID.randomUUID().toString().substring(0, 6);
    private static final String ALLOWED = "rcbok" + SUFFIX;
    private static final String REFUSED = "rcbno" + SUFFIX;
    private static RealNode node;
    private static Path shared;
    private static Path clientClasses;
    private static Path config;
    private static Path socket;
    private static Process agent;
    private static int allowedUid;

    @BeforeAll
    static void setUp() throws Exception {
        node = RealNode.create();
        shared = Files.createTempDirectory("runcible-peers-");
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String user : List.of(ALLOWED, REFUSED)) {
            host("useradd", "-M", "-N", "-s", "/usr/sbin/nologin", user);
        }
        allowedUid = Integer.parseInt(host("id", "-u", ALLOWED).strip());
        Files.writeString(shared.resolve("root-only"), "secret\n");
        Files.setPosixFilePermissions(shared.resolve("root-only"), PosixFilePermissions.fromString("rw-------"));
        Files.writeString(shared.resolve("public"), "for everyone\n");
        Files.setPosixFilePermissions(shared.resolve("public"), PosixFilePermissions.fromString("rw-r--r--"));
        clientClasses = shared.resolve("client");
        Path own = Path.of(AgentProtocol.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (Files.isDirectory(own)) {
            RealNode.copyTree(own, clientClasses);
        } else {
            Files.createDirectories(clientClasses);
            Files.copy(own, clientClasses.resolve("agent-client.jar"));
        }
        try (Stream<Path> files = Files.walk(clientClasses)) {
            for (Path file : files.toList()) {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(Files.isDirectory(file)
                        ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        config = node.configFile("peers", Map.of("runcible.agent.allowed-users", ALLOWED,
                "runcible.agent.run-as-users", "1000-1999", "runcible.mounts.allowed-rw", shared.toString()));
        socket = shared.resolve("agent").resolve("agent.sock");
        agent = startAgent();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (agent != null) {
            agent.destroy();
            agent.waitFor(30, TimeUnit.SECONDS);
        }
        if (node != null) {
            node.close();
        }
        for (String user : List.of(ALLOWED, REFUSED)) {
            new ProcessBuilder("userdel", user).start().waitFor(30, TimeUnit.SECONDS);
        }
        if (shared != null) {
            try (Stream<Path> files = Files.walk(shared)) {
                for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(file);
                }
            }
        }
    }

    @AfterEach
    void removeEverything() throws Exception {
        node.removeAllContainers();
    }

    private static String host(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
        return out;
    }

    /** The agent, as root, in a JVM of its own; returns once its socket answers. */
    private static Process startAgent() throws Exception {
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), "dev.runcible.core.cli.Main", "--config", config.toString(),
                "agent", "--socket", socket.toString())
                .redirectErrorStream(true).redirectOutput(node.base.resolve("agent.log").toFile()).start();
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                probe.connect(UnixDomainSocketAddress.of(socket));
                return process;
            } catch (IOException notYet) {
                assertThat(process.isAlive()).as(Files.exists(node.base.resolve("agent.log"))
                        ? Files.readString(node.base.resolve("agent.log")) : "agent died").isTrue();
                Thread.sleep(50);
            }
        }
        throw new AssertionError("the agent did not answer on " + socket);
    }

    private record Reply(int exitCode, String out, String err) {
    }

    /** The real client JVM, as {@code user} (root when null), sending to the agent. */
    private static Process client(String user, Map<String, String> environment, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        List<String> line = new ArrayList<>(List.of(args));
        if (user == null) {
            line.addAll(0, List.of("--config", config.toString())); // root chooses its configuration
        } else {
            command.addAll(List.of("setpriv", "--reuid=" + user, "--regid=" + host("id", "-g", user).strip(),
                    "--init-groups"));
        }
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                clientClasses + "/*:" + clientClasses, "dev.runcible.client.AgentClient"));
        command.addAll(line);
        ProcessBuilder builder = new ProcessBuilder(command).directory(shared.toFile());
        builder.environment().remove("RUNCIBLE_CONFIG");
        builder.environment().put(AgentProtocol.SOCKET_ENV, socket.toString());
        builder.environment().putAll(environment);
        return builder.start();
    }

    private static Reply as(String user, String... args) throws Exception {
        Process process = client(user, Map.of(), args);
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Reply(process.exitValue(), out, err);
    }

    @Test
    void theAllowedUserLaunchesExecsAndRemovesItsOwnContainers() throws Exception {
        Instant before = Instant.now();
        Reply started = as(ALLOWED, "run", "-d", "--name", "own", "--user", "1000", RealNode.IMAGE, "--", "sleep",
                "60");
        assertThat(started.exitCode()).as(started.err()).isZero();
        String id = started.out().strip();
        try (Runcible runcible = node.open(Map.of())) {
            assertThat(runcible.containers().find(id).record().owner()).isEqualTo(allowedUid);
        }
        Reply exec = as(ALLOWED, "exec", "own", "--", "sh", "-c", "id -u; exit 4");
        assertThat(exec).isEqualTo(new Reply(4, "1000\n", ""));
        assertThat(as(ALLOWED, "ps").out()).contains("own").contains("running");
        assertThat(as(ALLOWED, "stats", "--json", "own").exitCode()).isZero();
        Reply foreground = as(ALLOWED, "run", "--rm", "--user", "1001:1001", RealNode.IMAGE, "--", "sh", "-c",
                "echo as $(id -u):$(id -g); exit 3");
        assertThat(foreground).isEqualTo(new Reply(3, "as 1001:1001\n", ""));
        assertThat(as(ALLOWED, "rm", "--force", "own").exitCode()).isZero();
        try (Runcible runcible = node.open(Map.of())) {
            assertThat(runcible.containers().list()).noneMatch(info -> info.record().id().equals(id));
        }
        // Its events: its own containers only, from created to removed.
        Process events = client(ALLOWED, Map.of(), "events", "--json", "--since", before.toString());
        List<JsonNode> seen = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(events.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                seen.add(Json.MAPPER.readTree(line));
                if (seen.stream().filter(e -> e.path("type").asText().equals("removed")).count() == 2) {
                    break;
                }
            }
        } finally {
            events.destroy();
        }
        assertThat(seen).allSatisfy(event -> assertThat(event.path("owner").asInt()).isEqualTo(allowedUid));
        assertThat(seen.stream().filter(e -> e.path("id").asText().equals(id)).map(e -> e.path("type").asText()))
                .containsExactly("created", "started", "exited", "removed");
    }

    @Test
    void aUserTheAgentDoesNotAdmitIsRefused() throws Exception {
        Reply reply = as(REFUSED, "ps");
        assertThat(reply.exitCode()).as(reply.err()).isEqualTo(125);
        assertThat(reply.err()).contains("not " + REFUSED).contains("runcible.agent.allowed-users");
        assertThat(as(REFUSED, "run", "--rm", "--user", "1000", RealNode.IMAGE, "--", "true").exitCode())
                .isEqualTo(125);
        assertThat(node.containerDirs()).isEmpty();
    }

    @Test
    void theAllowedUserCannotRunAsRootNorOutsideItsUids() throws Exception {
        Reply root = as(ALLOWED, "run", "--rm", "--user", "0", RealNode.IMAGE, "--", "id");
        assertThat(root.exitCode()).isEqualTo(125);
        assertThat(root.err()).contains("would run as uid 0").contains("never runs anything as root");
        Reply groupRoot = as(ALLOWED, "run", "--rm", "--user", "1000:0", RealNode.IMAGE, "--", "id");
        assertThat(groupRoot.err()).contains("gid 0");
        Reply addedRoot = as(ALLOWED, "run", "--rm", "--user", "1000:1000", "--group-add", "0", RealNode.IMAGE, "--",
                "id");
        assertThat(addedRoot.err()).contains(", 0]");
        Reply outside = as(ALLOWED, "run", "--rm", "--user", "2500:2500", RealNode.IMAGE, "--", "id");
        assertThat(outside.exitCode()).isEqualTo(125);
        assertThat(outside.err()).contains("uid 2500").contains("runcible.agent.run-as-users");
        Reply parent = as(ALLOWED, "run", "--rm", "--user", "1000", "--cgroup-parent", "elsewhere", RealNode.IMAGE);
        assertThat(parent.err()).contains("outside 'runcible'");
        assertThat(node.containerDirs()).isEmpty();
        node.assertNothingLeftRunning();
    }

    @Test
    void theAllowedUserBindsOnlyWhatItCouldOpenItself() throws Exception {
        Reply secret = as(ALLOWED, "run", "--rm", "--user", "1000", "--mount", shared.resolve("root-only") + ":/x:ro",
                RealNode.IMAGE, "--", "cat", "/x");
        assertThat(secret.exitCode()).isEqualTo(125);
        assertThat(secret.err()).contains(shared.resolve("root-only").toString()).contains("cannot read it");
        assertThat(secret.out()).doesNotContain("secret");
        Reply readable = as(ALLOWED, "run", "--rm", "--user", "1000", "--mount", shared.resolve("public") + ":/x:ro",
                RealNode.IMAGE, "--", "cat", "/x");
        assertThat(readable).isEqualTo(new Reply(0, "for everyone\n", ""));
        Reply writable = as(ALLOWED, "run", "--rm", "--user", "1000", "--mount", shared.resolve("public") + ":/x:rw",
                RealNode.IMAGE, "--", "cat", "/x");
        assertThat(writable.err()).contains("cannot write to it");
        // Root, through the same agent, binds what it likes within the allow-lists.
        assertThat(as(null, "run", "--rm", "--mount", shared.resolve("root-only") + ":/x:ro", RealNode.IMAGE, "--",
                "cat", "/x").exitCode()).isEqualTo(1); // the container's user (1000) cannot read it: cat fails
        node.assertNothingLeftRunning();
    }

    @Test
    void theAllowedUserCannotSeeOrTouchRootsContainers() throws Exception {
        Cli roots = Cli.run(config, "run", "-d", "--name", "roots", RealNode.IMAGE, "--", "sleep", "60");
        assertThat(roots.exitCode()).as(roots.err()).isZero();
        String id = roots.out().strip();
        assertThat(as(ALLOWED, "ps", "--all").out()).doesNotContain("roots").doesNotContain(id.substring(0, 12));
        for (List<String> command : List.of(List.of("kill", "roots"), List.of("rm", "--force", "roots"),
                List.of("logs", "roots"), List.of("wait", id), List.of("stats", id.substring(0, 12)),
                List.of("exec", "roots", "true"))) {
            Reply reply = as(ALLOWED, command.toArray(String[]::new));
            assertThat(reply.exitCode()).as(command.toString()).isEqualTo(125);
            assertThat(reply.err()).as(command.toString()).contains("No container");
        }
        Reply sameName = as(ALLOWED, "run", "--rm", "--name", "roots", "--user", "1000", RealNode.IMAGE, "--", "true");
        assertThat(sameName.err()).contains("is in use").doesNotContain(id.substring(0, 12));
        assertThat(as(null, "ps").out()).contains("roots").contains("running");
    }

    @Test
    void aPeerCannotChooseTheConfiguration() throws Exception {
        Path wide = Files.writeString(node.base.resolve("config").resolve("wide.properties"),
                "runcible.allow-root=true\nruncible.agent.run-as-users=*\n");
        Files.setPosixFilePermissions(wide, PosixFilePermissions.fromString("rw-------"));
        Process flag = client(ALLOWED, Map.of(), "--config", wide.toString(), "run", "--rm", "--user", "2500:2500",
                RealNode.IMAGE, "--", "id");
        String err = new String(flag.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(flag.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(flag.exitValue()).isEqualTo(125);
        assertThat(err).contains("uid 2500").contains("[1000-1999]");
        Process variable = client(ALLOWED, Map.of("RUNCIBLE_CONFIG", wide.toString()), "run", "--rm", "--user", "0",
                RealNode.IMAGE, "--", "id");
        err = new String(variable.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(variable.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(err).contains("never runs anything as root");
    }

    /** Lines a client prints, with the moment each arrived. */
    private record Received(Instant at, JsonNode event) {
    }

    private static List<Received> follow(Process events) {
        List<Received> received = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(events.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = lines.readLine()) != null; ) {
                    received.add(new Received(Instant.now(), Json.MAPPER.readTree(line)));
                }
            } catch (IOException e) {
                // the client ended
            }
        });
        reader.setDaemon(true);
        reader.start();
        return received;
    }

    private static List<Received> exits(List<Received> received) {
        return received.stream().filter(r -> r.event().path("type").asText().equals("exited")).toList();
    }

    private static void awaitExits(List<Received> received, int count, Duration within) throws Exception {
        long deadline = System.currentTimeMillis() + within.toMillis();
        while (exits(received).size() < count && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertThat(exits(received)).hasSizeGreaterThanOrEqualTo(count);
    }

    private static String start(ContainerManager containers, String script) throws Exception {
        return containers.run(new RunRequest(ImageReference.parse(RealNode.IMAGE), Optional.empty(),
                List.of("sh", "-c", script), List.of(), Limits.NONE, List.of(), Optional.empty(), Network.HOST, false,
                false)).record().id();
    }

    @Test
    void everyExitReachesAnEventsClientOnceAcrossAnAgentRestart() throws Exception {
        Map<String, Integer> codes = new HashMap<>();
        List<Received> first;
        List<Received> second;
        Process events = client(null, Map.of(), "events", "--json", "--since", Instant.now().toString());
        try (Runcible runcible = node.open(Map.of())) {
            ContainerManager containers = runcible.containers();
            first = follow(events);
            long wake = Instant.now().plusSeconds(4).getEpochSecond();
            for (int i = 0; i < 10; i++) {
                codes.put(start(containers, "while [ $(busybox date +%s) -lt " + wake + " ]; do sleep 0.1; done; exit "
                        + (20 + i)), 20 + i);
            }
            awaitExits(first, 10, Duration.ofSeconds(30));
            for (Received exit : exits(first)) {
                Instant exited = Instant.parse(exit.event().path("time").asText());
                assertThat(Duration.between(exited, exit.at())).as("reported after the exit")
                        .isLessThan(Duration.ofSeconds(1));
            }
            // Ten more, which exit while no agent runs: a scheduler restarted meanwhile learns them on reconnecting.
            wake = Instant.now().plusSeconds(3).getEpochSecond();
            List<String> later = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                String id = start(containers, "while [ $(busybox date +%s) -lt " + wake + " ]; do sleep 0.1; done; "
                        + "exit " + (40 + i));
                codes.put(id, 40 + i);
                later.add(id);
            }
            agent.destroy();
            assertThat(agent.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(events.waitFor(30, TimeUnit.SECONDS)).as("the client ends with its agent").isTrue();
            for (String id : later) {
                assertThat(containers.onExit(id).get(30, TimeUnit.SECONDS)).isEqualTo(codes.get(id));
            }
            agent = startAgent();
            String lastSeen = first.get(first.size() - 1).event().path("time").asText();
            events = client(null, Map.of(), "events", "--json", "--since", lastSeen);
            second = follow(events);
            awaitExits(second, exits(first).size() == 20 ? 0 : 20 - exits(first).size(), Duration.ofSeconds(30));
            Thread.sleep(500);
        } finally {
            events.destroy();
        }
        List<Received> all = new ArrayList<>(exits(first));
        all.addAll(exits(second));
        assertThat(all).hasSize(20);
        Map<String, Integer> reported = new HashMap<>();
        for (Received exit : all) {
            assertThat(reported.put(exit.event().path("id").asText(), exit.event().path("exitCode").asInt()))
                    .as("reported once").isNull();
        }
        assertThat(reported).isEqualTo(codes);
        try (Runcible runcible = node.open(Map.of())) {
            assertThat(runcible.containers().list()).extracting(ContainerInfo::exitCode)
                    .allSatisfy(code -> assertThat(code).isPresent());
        }
    }
}
