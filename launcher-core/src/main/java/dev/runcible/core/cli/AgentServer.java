package dev.runcible.core.cli;

import dev.runcible.api.RuncibleException;
import dev.runcible.client.AgentProtocol;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.AgentPolicy;
import dev.runcible.core.config.Settings;
import dev.runcible.core.container.Caller;
import dev.runcible.core.container.ContainerManager;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent: one resident launcher JVM that runs command lines sent by {@code AgentClient} over a Unix
 * socket. Its JIT-compiled code, open plugins, parsed tag files and mounted layers serve every command, so a
 * launch through the CLI costs a small client JVM plus the launch itself. Containers never depend on the agent:
 * they run under their shims as with the plain CLI, and the agent may stop or restart at any time.
 *
 * <p>Root may connect, and the users and groups {@code runcible.agent.allowed-users} and
 * {@code runcible.agent.allowed-groups} admit: the peer's credentials are checked on every connection, and the
 * socket's mode and group follow the configuration (0600 when only root is admitted). A peer other than root acts
 * as a {@link Caller} on its own containers only, under the agent's own configuration whatever it sends.
 */
final class AgentServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AgentServer.class);
    /** Launchers kept open, one per distinct configuration; the oldest is given back beyond this. */
    private static final int OPEN_LAUNCHERS = 4;

    private final Path socket;
    private final ServerSocketChannel server;
    private final String owner;
    private final AgentPolicy policy;
    private final AgentPeers peers;
    private final ExecutorService connections = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "runcible-agent-connection");
        thread.setDaemon(true);
        return thread;
    });
    private final Map<String, Runcible> launchers = new LinkedHashMap<>();
    private final AtomicInteger serving = new AtomicInteger();

    private AgentServer(Path socket, ServerSocketChannel server, String owner, AgentPolicy policy,
            Optional<Path> ownConfig, Optional<String> ownPluginPath) {
        this.socket = socket;
        this.server = server;
        this.owner = owner;
        this.policy = policy;
        this.peers = new AgentPeers(owner, policy, ownConfig, ownPluginPath);
    }

    /** An agent for root alone, under the built-in defaults (tests). */
    static AgentServer bind(Path socket) throws ContainerRuntimeException {
        return bind(socket, AgentPolicy.ROOT_ONLY, Optional.empty(), Optional.empty());
    }

    /**
     * Binds the socket. Only a stale socket (one nobody answers on) is replaced: any other file at the path is left
     * alone and refused. A missing directory is made 0700; an existing one keeps its mode (it may be {@code /tmp}),
     * since the socket's own mode 0600 and the peer check keep others out.
     */
    static AgentServer bind(Path socket, AgentPolicy policy, Optional<Path> ownConfig, Optional<String> ownPluginPath)
            throws ContainerRuntimeException {
        try {
            Path directory = socket.toAbsolutePath().getParent();
            if (!Files.isDirectory(directory)) {
                // Admitted users must reach the socket; its own mode and the peer check keep the rest out.
                Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(PosixFilePermissions
                        .fromString(policy.admitsOthers() ? "rwxr-xr-x" : "rwx------")));
            }
            if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                if (!isSocket(socket)) {
                    throw new ContainerRuntimeException("Cannot serve on " + socket + ": it exists and is not a "
                            + "socket; remove it yourself if it is not needed, or pick another path with --socket");
                }
                try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    probe.connect(UnixDomainSocketAddress.of(socket));
                    throw new ContainerRuntimeException("Another agent already serves " + socket + "; stop it "
                            + "first, or start this one with --socket PATH");
                } catch (IOException stale) {
                    Files.delete(socket); // left by an agent that did not stop cleanly
                }
            }
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            if (policy.socketGroup().isPresent()) {
                Files.getFileAttributeView(socket, PosixFileAttributeView.class).setGroup(socket.getFileSystem()
                        .getUserPrincipalLookupService().lookupPrincipalByGroupName(policy.socketGroup().get()));
            }
            Files.setPosixFilePermissions(socket, AgentPeers.modeOf(policy.socketMode()));
            String owner = Files.getOwner(socket).getName();
            return new AgentServer(socket, server, owner, policy, ownConfig, ownPluginPath);
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot serve on " + socket + ": " + e.getMessage()
                    + "; check the directory is local and writable, or pick another with --socket PATH", e);
        }
    }

    /** Whether a path is a Unix socket itself (not a link to one, not a file or a directory). */
    private static boolean isSocket(Path path) throws IOException {
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return (mode & 0170000) == 0140000;
    }

    Path socket() {
        return socket;
    }

    /** Connections being served now. */
    int serving() {
        return serving.get();
    }

    /** Accepts connections until the server is closed. */
    void serve() {
        while (server.isOpen()) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                LOG.warn("Cannot accept a connection: {}", e.getMessage());
                continue;
            }
            serving.incrementAndGet();
            connections.execute(() -> {
                try {
                    handle(channel);
                } finally {
                    serving.decrementAndGet();
                }
            });
        }
    }

    private void handle(SocketChannel channel) {
        try (channel) {
            DataOutputStream wire = new DataOutputStream(AgentProtocol.output(channel));
            UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
            Caller caller = peers.caller(peer);
            if (caller == null) {
                String name = peer.user().getName();
                byte[] refusal = ("runcible: the agent serves " + owner + (policy.admitsOthers() ? " and the users "
                        + "that " + AgentPolicy.ALLOWED_USERS + " and " + AgentPolicy.ALLOWED_GROUPS + " admit"
                        : " only")
                        + ", not " + name + "; ask the node's operator to add " + name + " to "
                        + AgentPolicy.ALLOWED_USERS + "\n").getBytes(StandardCharsets.UTF_8);
                AgentProtocol.writeFrame(wire, AgentProtocol.STDERR, refusal, 0, refusal.length);
                exit(wire, Main.LAUNCHER_ERROR);
                return;
            }
            DataInputStream in = new DataInputStream(new BufferedInputStream(AgentProtocol.input(channel)));
            AgentProtocol.Request request = AgentProtocol.readRequest(in);
            request = caller.isRoot() ? peers.withOwnConfigurationByDefault(request)
                    : peers.underOwnConfiguration(request);
            String command = AgentProtocol.subcommand(request.args());
            FrameStream outFrames = new FrameStream(wire, AgentProtocol.STDOUT);
            FrameStream errFrames = new FrameStream(wire, AgentProtocol.STDERR);
            PrintStream out = new PrintStream(outFrames, true, StandardCharsets.UTF_8);
            PrintStream err = new PrintStream(errFrames, true, StandardCharsets.UTF_8);
            if (command == null || !AgentProtocol.AGENT_COMMANDS.contains(command)) {
                err.println("runcible: the agent does not run '" + command + "'; run it without the agent");
                exit(wire, Main.LAUNCHER_ERROR);
                return;
            }
            AtomicReference<ContainerManager> containers = new AtomicReference<>();
            AtomicReference<String> container = new AtomicReference<>();
            Thread signals = new Thread(() -> {
                relaySignals(in, containers, container, err);
                outFrames.clientGone();
                errFrames.clientGone();
            }, "runcible-agent-signals");
            signals.setDaemon(true);
            signals.start();
            Invocation invocation = new Invocation(request.environment(), out, err, request.terminal(),
                    this::openShared, (manager, id) -> {
                        containers.set(manager);
                        container.set(id);
                    }, System.getenv(), caller, outFrames::isGone);
            long began = System.nanoTime();
            int code = Main.execute(invocation, request.args().toArray(String[]::new));
            LOG.debug("{} exited {} after {} ms", command, code, (System.nanoTime() - began) / 1_000_000);
            out.flush();
            err.flush();
            exit(wire, code);
        } catch (IOException e) {
            LOG.debug("Connection ended: {}", e.getMessage());
        } catch (RuntimeException e) {
            LOG.warn("Connection failed", e);
        }
    }

    /** Reads SIGNAL frames until the client goes, and sends each to the foreground container once it exists. */
    private static void relaySignals(DataInputStream in, AtomicReference<ContainerManager> containers,
            AtomicReference<String> container, PrintStream err) {
        try {
            for (AgentProtocol.Frame frame; (frame = AgentProtocol.readFrame(in)) != null; ) {
                if (frame.type() == AgentProtocol.SIGNAL && container.get() != null) {
                    try {
                        containers.get().kill(container.get(), frame.text());
                    } catch (RuncibleException e) {
                        err.println("runcible: " + e.getMessage());
                    }
                }
            }
        } catch (IOException e) {
            // The client went; a foreground container keeps running, as after docker's client detaches.
        }
    }

    private static void exit(DataOutputStream wire, int code) throws IOException {
        byte[] payload = AgentProtocol.exitPayload(code);
        synchronized (wire) {
            AgentProtocol.writeFrame(wire, AgentProtocol.EXIT, payload, 0, payload.length);
        }
    }

    /** One open launcher per configuration, lent to each command (its close gives the loan back). */
    private Runcible openShared(Settings settings, String pluginPath) throws RuncibleException {
        String key = settings.identity() + "|" + pluginPath;
        synchronized (launchers) {
            Runcible open = launchers.get(key);
            if (open == null) {
                open = Invocation.openFresh(settings, pluginPath);
                open.keepLazySpare();
                launchers.put(key, open);
                if (launchers.size() > OPEN_LAUNCHERS) {
                    Iterator<Runcible> oldest = launchers.values().iterator();
                    oldest.next().close();
                    oldest.remove();
                }
            }
            return open.retain();
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            LOG.debug("Closing the socket: {}", e.getMessage());
        }
        try {
            if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS) && isSocket(socket)) {
                Files.delete(socket);
            }
        } catch (IOException e) {
            LOG.warn("Cannot remove {}: {}", socket, e.getMessage());
        }
        connections.shutdownNow();
        synchronized (launchers) {
            launchers.values().forEach(Runcible::close);
            launchers.clear();
        }
    }
}
