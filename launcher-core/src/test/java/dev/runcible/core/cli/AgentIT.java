package dev.runcible.core.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.client.AgentConnection;
import dev.runcible.client.AgentProtocol;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.it.RealNode;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import dev.runcible.core.it.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The node agent on a real socket, running real containers, driven over its wire protocol as the client does. */
class AgentIT {
    private static RealNode node;
    private static Path config;
    private static Path socket;
    private static AgentServer server;
    private static Thread serving;

    @BeforeAll
    static void setUp() throws Exception {
        node = RealNode.create();
        dev.runcible.core.it.HostileImageIT.sparsePasswdImage(node, "hostile/passwd:1");
        config = node.configFile("agent", Map.of());
        socket = node.base.resolve("agent").resolve("agent.sock");
        server = AgentServer.bind(socket);
        serving = new Thread(server::serve, "agent-under-test");
        serving.start();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (server != null) {
            server.close();
            serving.join(10_000);
            assertThat(socket).doesNotExist();
        }
        if (node != null) {
            node.close();
        }
    }

    @AfterEach
    void removeEverything() throws Exception {
        node.removeAllContainers();
    }

    private record Reply(int exitCode, String out, String err) {
    }

    /** One command line through the agent, as AgentClient sends it; output collected until the exit frame. */
    private static Reply send(String... args) throws IOException {
        return send(text -> false, null, args);
    }

    /** As {@link #send(String...)}, sending {@code signal} once the output so far matches {@code ready}. */
    private static Reply send(Predicate<String> ready, String signal, String... args) throws IOException {
        List<String> line = new ArrayList<>(List.of("--config", config.toString()));
        line.addAll(List.of(args));
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            DataOutputStream out = new DataOutputStream(AgentProtocol.output(channel));
            AgentProtocol.writeRequest(out, new AgentProtocol.Request(line, Map.of("PATH", "/usr/bin:/bin"), false));
            DataInputStream in = new DataInputStream(new BufferedInputStream(AgentProtocol.input(channel)));
            ByteArrayOutputStream stdout = new ByteArrayOutputStream();
            ByteArrayOutputStream stderr = new ByteArrayOutputStream();
            boolean signalled = false;
            for (AgentProtocol.Frame frame; (frame = AgentProtocol.readFrame(in)) != null; ) {
                switch (frame.type()) {
                    case AgentProtocol.STDOUT -> stdout.writeBytes(frame.data());
                    case AgentProtocol.STDERR -> stderr.writeBytes(frame.data());
                    case AgentProtocol.EXIT -> {
                        return new Reply(frame.exitCode(), stdout.toString(StandardCharsets.UTF_8),
                                stderr.toString(StandardCharsets.UTF_8));
                    }
                    default -> throw new IOException("unexpected frame " + frame.type());
                }
                if (!signalled && signal != null && ready.test(stdout.toString(StandardCharsets.UTF_8))) {
                    byte[] name = signal.getBytes(StandardCharsets.US_ASCII);
                    AgentProtocol.writeFrame(out, AgentProtocol.SIGNAL, name, 0, name.length);
                    signalled = true;
                }
            }
            throw new IOException("the agent closed the connection without an exit code; err so far: " + stderr);
        }
    }

    @Test
    void aForegroundRunStreamsBothOutputsAndKeepsTheContainersExitCode() throws Exception {
        Reply reply = send("run", "--rm", RealNode.IMAGE, "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 7");
        assertThat(reply).isEqualTo(new Reply(7, "to-out\n", "to-err\n"));
        assertThat(node.containerDirs()).isEmpty();
    }

    @Test
    void aSignalTheClientReceivesReachesTheForegroundContainer() throws Exception {
        Reply reply = send(out -> out.contains("ready"), "TERM", "run", "--rm", RealNode.IMAGE, "--", "sh", "-c",
                "trap 'echo got TERM; exit 42' TERM; echo ready; while true; do sleep 0.1; done");
        assertThat(reply.exitCode()).isEqualTo(42);
        assertThat(reply.out()).isEqualTo("ready\ngot TERM\n");
    }

    @Test
    void theClientsEnvironmentIsTheOneThatRunPasses() throws Exception {
        // -e NAME passes the variable from the environment of the client, not of the agent.
        List<String> line = List.of("--config", config.toString(), "run", "--rm", "-e", "FROM_CLIENT",
                RealNode.IMAGE, "--", "sh", "-c", "echo $FROM_CLIENT");
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            AgentProtocol.writeRequest(new DataOutputStream(AgentProtocol.output(channel)),
                    new AgentProtocol.Request(line, Map.of("FROM_CLIENT", "client value"), false));
            DataInputStream in = new DataInputStream(AgentProtocol.input(channel));
            AgentProtocol.Frame frame = AgentProtocol.readFrame(in);
            assertThat(frame.text()).isEqualTo("client value\n");
            assertThat(AgentProtocol.readFrame(in).exitCode()).isZero();
        }
    }

    @Test
    void launchesFromManyClientsAtOnceShareOneAgent() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<Reply>> replies = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                int n = i;
                replies.add(pool.submit(() -> send("run", "--rm", RealNode.IMAGE, "--", "sh", "-c",
                        "echo client " + n + "; exit " + n)));
            }
            for (int i = 0; i < 6; i++) {
                assertThat(replies.get(i).get(60, TimeUnit.SECONDS)).isEqualTo(new Reply(i, "client " + i + "\n", ""));
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(node.containerDirs()).isEmpty();
    }

    @Test
    void errorsComeBackAsTheyWouldFromThePlainCli() throws Exception {
        Reply missing = send("run", "--rm", "no/such:image", "--", "true");
        assertThat(missing.exitCode()).isEqualTo(125);
        assertThat(missing.err()).startsWith("runcible: No image 'no/such:image'");
        Reply typo = send("run", "--memroy", "1g", RealNode.IMAGE);
        assertThat(typo.exitCode()).isEqualTo(125);
        assertThat(typo.err()).contains("Unknown option: '--memroy'");
        Reply notFound = send("run", "--rm", RealNode.IMAGE, "--", "/no/such/command");
        assertThat(notFound.exitCode()).isEqualTo(127);
    }

    @Test
    void aFollowerWhoseClientWentAwayStopsWhileTheContainerRunsOn() throws Exception {
        String id = send("run", "-d", "--name", "long", RealNode.IMAGE, "--", "sh", "-c",
                "echo started; sleep 60").out().strip();
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            AgentProtocol.writeRequest(new DataOutputStream(AgentProtocol.output(channel)), new AgentProtocol.Request(
                    List.of("--config", config.toString(), "logs", "--follow", "long"), Map.of(), false));
            AgentProtocol.Frame first = AgentProtocol.readFrame(new DataInputStream(AgentProtocol.input(channel)));
            assertThat(first.text()).isEqualTo("started\n");
            assertThat(server.serving()).isEqualTo(1);
        } // the client goes away while the container still runs
        long deadline = System.currentTimeMillis() + 10_000;
        while (server.serving() > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertThat(server.serving()).as("connections still served").isZero();
        assertThat(send("ps").out()).contains("long").contains("running");
        assertThat(send("rm", "--force", id).exitCode()).isZero();
    }

    @Test
    void commandsThatNameHostPathsAreNotRunByTheAgent() throws Exception {
        Reply reply = send("import", "dir:relative/rootfs", "--tag", "x:1");
        assertThat(reply.exitCode()).isEqualTo(125);
        assertThat(reply.err()).contains("the agent does not run 'import'");
    }

    @Test
    void somethingThatIsNotAClientIsDroppedAndTheAgentServesOn() throws Exception {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
            assertThat(AgentProtocol.readFrame(new DataInputStream(AgentProtocol.input(channel)))).isNull();
        }
        assertThat(send("ps").exitCode()).isZero();
    }

    /** The real client, in a JVM of its own as bin/runcible starts it, sending to the agent at agentSocket. */
    private static Process clientProcess(Path agentSocket, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", System.getProperty("java.class.path"), "dev.runcible.client.AgentClient",
                "--config", config.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put(AgentProtocol.SOCKET_ENV, agentSocket.toString());
        return builder.start();
    }

    /** The real client run to its end, with what it printed. */
    private static Reply client(Path agentSocket, String... args) throws Exception {
        Process process = clientProcess(agentSocket, args);
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Reply(process.exitValue(), out, err);
    }

    @Test
    void anRmContainerWhoseAgentWasKilledIsGoneOnceItExitsAndADetachedOneIsRemovedByItsSupervisor()
            throws Exception {
        Path agentSocket = node.base.resolve("doomed-agent").resolve("agent.sock");
        Files.createDirectories(agentSocket.getParent());
        Process agent = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), "dev.runcible.core.cli.Main", "--config", config.toString(),
                "agent", "--socket", agentSocket.toString()).redirectErrorStream(true)
                .redirectOutput(node.base.resolve("doomed-agent.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(agentSocket) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            Process client = clientProcess(agentSocket, "run", "--rm", "--name", "doomed", RealNode.IMAGE, "--", "sh",
                    "-c", "sleep 3; exit 4");
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Cli.run(config, "ps").out().matches("(?s).*doomed.*running.*") && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(Cli.run(config, "ps").out()).containsPattern("doomed.*running");
            agent.destroyForcibly(); // kill -9, mid-run
            agent.waitFor(10, TimeUnit.SECONDS);
            client.waitFor(10, TimeUnit.SECONDS);
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (Cli.run(config, "ps", "--all").out().contains("doomed") && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            StringBuilder logs = new StringBuilder();
            for (Path dir : node.containerDirs()) {
                logs.append(dir).append(": ").append(Files.exists(dir.resolve("shim.log"))
                        ? Files.readString(dir.resolve("shim.log")) : "(no shim log)").append('\n');
            }
            assertThat(Cli.run(config, "ps", "--all").out()).as(logs.toString()).doesNotContain("doomed");
        } finally {
            agent.destroyForcibly();
        }
        // run -d --rm: nobody waits, the supervisor removes it at its exit.
        Reply detached = send("run", "-d", "--rm", "--name", "brief", RealNode.IMAGE, "--", "true");
        assertThat(detached.exitCode()).as(detached.err()).isZero();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        // The record goes first, then (under the run directory lock) the layer mounts nobody else uses.
        while ((Cli.run(config, "ps", "--all").out().contains("brief") || !node.mounts().isEmpty())
                && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertThat(Cli.run(config, "ps", "--all").out()).doesNotContain("brief");
        node.assertNothingLeftRunning();
    }

    @Test
    void theClientProcessRelaysOutputAndExitCode() throws Exception {
        Reply reply = client(socket, "run", "--rm", RealNode.IMAGE, "--", "sh", "-c", "echo via agent; exit 3");
        assertThat(reply).isEqualTo(new Reply(3, "via agent\n", ""));
    }

    @Test
    void anEmbeddingProgramCallsTheAgentAndFollowsItsEvents() throws Exception {
        AgentConnection agent = new AgentConnection(socket,
                List.of("--config", config.toString()));
        List<String> lines = new CopyOnWriteArrayList<>();
        CompletableFuture<Integer> ended = new CompletableFuture<>();
        Closeable events = agent.events(Instant.now().toString(), lines::add, ended::complete);
        AgentConnection.Result started = agent.call(List.of("run", "-d", "--name", "embedded", RealNode.IMAGE, "--",
                "sh", "-c", "echo out; echo err >&2; exit 6"), Map.of());
        assertThat(started.exitCode()).as(started.err()).isZero();
        String id = started.out().strip();
        assertThat(agent.call(List.of("wait", "embedded"), Map.of()))
                .isEqualTo(new AgentConnection.Result(6, "6\n", ""));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertThat(agent.stream(List.of("logs", "embedded"), Map.of(), out, err))
                .isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("out\n");
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("err\n");
        long deadline = System.currentTimeMillis() + 10_000;
        while (lines.stream().noneMatch(l -> l.contains("\"exited\"")) && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertThat(lines.stream().filter(l -> l.contains(id)))
                .anyMatch(l -> l.contains("\"type\":\"exited\"") && l.contains("\"exitCode\":6"))
                .anyMatch(l -> l.contains("\"type\":\"started\""));
        assertThat(ended).isNotDone();
        events.close();
        assertThat(ended.get(10, TimeUnit.SECONDS)).isNotNull();
        assertThat(agent.call(List.of("rm", id), Map.of()).exitCode()).isZero();
    }

    @Test
    void aTermSentToTheClientProcessReachesTheContainer() throws Exception {
        Process client = clientProcess(socket, "run", "--rm", RealNode.IMAGE, "--", "sh", "-c",
                "trap 'echo got TERM; exit 42' TERM; echo ready; while true; do sleep 0.1; done");
        java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(
                client.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("ready");
        // SIGTERM to the client, as a scheduler stopping a task sends it (Process.destroy would close our pipes).
        assertThat(new ProcessBuilder("kill", "-TERM", Long.toString(client.pid())).start().waitFor()).isZero();
        assertThat(out.readLine()).isEqualTo("got TERM");
        assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(client.exitValue()).isEqualTo(42);
    }

    @Test
    void aClientWhoseReaderStopsStillEndsWithTheContainersExitCode() throws Exception {
        Process client = clientProcess(socket, "run", "--rm", RealNode.IMAGE, "--", "sh", "-c",
                "seq 1 200000; exit 5");
        java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(
                client.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("1");
        out.close(); // as 'runcible run ... | head -1' does
        String err = new String(client.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(client.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(client.exitValue()).as(err).isEqualTo(5);
        assertThat(err).isEmpty();
    }

    @Test
    void withoutAnAgentTheClientSaysSoAndRunsTheCommandItself() throws Exception {
        Reply reply = client(node.base.resolve("no-agent.sock"), "run", "--rm", RealNode.IMAGE, "--", "sh", "-c",
                "echo in-process; exit 4");
        assertThat(reply.exitCode()).isEqualTo(4);
        assertThat(reply.out()).isEqualTo("in-process\n");
        assertThat(reply.err()).contains("the agent at " + node.base.resolve("no-agent.sock") + " does not answer")
                .contains("running without it");
    }

    @Test
    void theSocketIsForItsOwnerOnly() throws Exception {
        assertThat(Files.getPosixFilePermissions(socket)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(socket.getParent()))
                .isEqualTo(PosixFilePermissions.fromString("rwx------"));
    }

    @Test
    void aSecondAgentOnTheSameSocketIsRefusedAndAStaleSocketIsReplaced() throws Exception {
        assertThatThrownBy(() -> AgentServer.bind(socket)).isInstanceOf(ContainerRuntimeException.class)
                .hasMessageContaining("Another agent already serves " + socket);
        Path stale = node.base.resolve("stale").resolve("agent.sock");
        Files.createDirectories(stale.getParent());
        ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        crashed.bind(UnixDomainSocketAddress.of(stale));
        crashed.close(); // as after a crash: the socket file stays, nobody answers
        assertThat(stale).exists();
        try (AgentServer replacement = AgentServer.bind(stale)) {
            assertThat(replacement.socket()).isEqualTo(stale);
        }
        assertThat(stale).doesNotExist();
    }

    @Test
    void theAgentReplacesNothingButAStaleSocketAndChangesNoDirectoryItDidNotMake() throws Exception {
        Path file = node.base.resolve("not-a-socket");
        Files.writeString(file, "precious");
        assertThatThrownBy(() -> AgentServer.bind(file)).isInstanceOf(ContainerRuntimeException.class)
                .hasMessageContaining("it exists and is not a socket");
        assertThat(Files.readString(file)).isEqualTo("precious");
        Path directory = Files.createDirectories(node.base.resolve("shared-tmp"));
        assertThat(new ProcessBuilder("chmod", "1777", directory.toString()).start().waitFor()).isZero();
        try (AgentServer inSharedDirectory = AgentServer.bind(directory.resolve("x.sock"))) {
            assertThat(Files.getPosixFilePermissions(inSharedDirectory.socket()))
                    .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        }
        assertThat(Files.getAttribute(directory, "unix:mode")).isEqualTo(01777 | 0040000);
        assertThat(directory.resolve("x.sock")).doesNotExist();
    }

    @Test
    void theClientSendsOnlyTheVariablesTheCommandNeeds() throws Exception {
        Path fake = node.base.resolve("fake-agent.sock");
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(fake));
            ExecutorService accepting = Executors.newSingleThreadExecutor();
            Future<AgentProtocol.Request> received = accepting.submit(() -> {
                try (SocketChannel channel = listener.accept()) {
                    AgentProtocol.Request request = AgentProtocol.readRequest(new DataInputStream(
                            new BufferedInputStream(AgentProtocol.input(channel))));
                    DataOutputStream out = new DataOutputStream(AgentProtocol.output(channel));
                    byte[] exit = AgentProtocol.exitPayload(0);
                    AgentProtocol.writeFrame(out, AgentProtocol.EXIT, exit, 0, exit.length);
                    return request;
                }
            });
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                    .toString(), "-cp", System.getProperty("java.class.path"), "dev.runcible.client.AgentClient",
                    "run", "-e", "PASSED", "--env=ALSO_PASSED", "-e", "SET=here", "-e", "UNSET", RealNode.IMAGE,
                    "--", "env"));
            ProcessBuilder builder = new ProcessBuilder(command);
            builder.environment().put(AgentProtocol.SOCKET_ENV, fake.toString());
            builder.environment().put("PASSED", "yes");
            builder.environment().put("ALSO_PASSED", "too");
            builder.environment().put("SECRET_TOKEN", "must-not-leave");
            builder.environment().put("RUNCIBLE_CONFIG", "relative.properties");
            Process client = builder.start();
            assertThat(client.waitFor(60, TimeUnit.SECONDS)).isTrue();
            Map<String, String> sent = received.get(10, TimeUnit.SECONDS).environment();
            assertThat(sent).containsOnlyKeys("PASSED", "ALSO_PASSED", "RUNCIBLE_CONFIG")
                    .containsEntry("PASSED", "yes").containsEntry("ALSO_PASSED", "too");
            assertThat(Path.of(sent.get("RUNCIBLE_CONFIG"))).isAbsolute();
            accepting.shutdownNow();
        }
    }

    @Test
    void theClientSendsNothingToASocketServedByAnotherUser() throws Exception {
        Path scratch = Files.createTempDirectory("runcible-foreign-");
        try {
            Path classes = scratch.resolve("classes/dev/runcible/core/cli");
            Files.createDirectories(classes);
            Files.copy(Path.of(ForeignListener.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .resolve("dev/runcible/core/cli/ForeignListener.class"), classes.resolve("ForeignListener.class"));
            Path sockets = Files.createDirectories(scratch.resolve("sockets"));
            assertThat(new ProcessBuilder("chmod", "-R", "a+rX", scratch.toString()).start().waitFor()).isZero();
            assertThat(new ProcessBuilder("chmod", "777", sockets.toString()).start().waitFor()).isZero();
            Path foreign = sockets.resolve("agent.sock");
            Process listener = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    scratch.resolve("classes").toString(), "dev.runcible.core.cli.ForeignListener", foreign.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            java.io.BufferedReader said = new java.io.BufferedReader(new java.io.InputStreamReader(
                    listener.getInputStream(), StandardCharsets.UTF_8));
            assertThat(said.readLine()).isEqualTo("listening");
            Reply reply = client(foreign, "run", "--rm", "-e", "PATH", RealNode.IMAGE, "--", "true");
            assertThat(reply.exitCode()).isEqualTo(125);
            assertThat(reply.err()).contains("refusing the agent socket " + foreign)
                    .contains("served by user 'nobody', not by root").contains("nothing was sent");
            assertThat(said.readLine()).isEqualTo("received 0");
            assertThat(listener.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            new ProcessBuilder("rm", "-rf", scratch.toString()).start().waitFor();
        }
    }

    @Test
    void aLaunchThatFailsInTheAgentLeavesNothingTheAgentMustBeRestartedFor() throws Exception {
        // The image's 2.25 GiB /etc/passwd once gave the agent an OutOfMemoryError and a half-made container.
        Reply reply = send("run", "--rm", "hostile/passwd:1");
        assertThat(reply.exitCode()).isEqualTo(125);
        assertThat(reply.err()).contains("/etc/passwd is " + (2304L << 20) + " bytes").doesNotContain("\tat ");
        assertThat(send("ps", "--all").out().lines().count()).as("ps lists only its header").isEqualTo(1);
        node.assertNothingLeftRunning();
        Reply next = send("run", "--rm", RealNode.IMAGE, "--", "echo", "still serving");
        assertThat(next).isEqualTo(new Reply(0, "still serving\n", ""));
    }
}
