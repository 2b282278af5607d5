package dev.runcible.core.lazy;

import dev.runcible.api.Digest;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.container.RunDirectory;
import dev.runcible.core.host.MountTable;
import dev.runcible.core.host.ProcessIdentity;
import dev.runcible.toolkit.FileLocks;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The layers of this node being served lazily, one server process each, under {@code RUN/lazy}:
 * <pre>
 *   RUN/lazy/HEX/request     what the server serves ({@link LazyRequest})
 *   RUN/lazy/HEX/pid         the server's pid and start time ({@link ProcessIdentity})
 *   RUN/lazy/HEX/mnt.PID     the FUSE file the layer's loop device reads
 *   RUN/lazy/HEX/status      fetched bytes, chunks present, chunks, size; rewritten every second
 *   RUN/lazy/HEX/filling     written when the background fill begins: the containers' start-up reads are over
 *   RUN/lazy/HEX/server.log  what the server logs
 *   RUN/lazy/HEX/ready       written by a spare server once it serves the layer (a new server says so on stdout)
 *   RUN/lazy/spare-PID-N/    a spare server of launcher PID, waiting for {@code assign} to name a layer directory
 *   RUN/lazy/HEX.lock        held while a server is found or started
 *   RUN/lazy/HEX.reads       the chunks the first lazy start of the layer read, in order (a prefetch list)
 * </pre>
 */
public final class LazyLayers {
    private static final Logger LOG = LoggerFactory.getLogger(LazyLayers.class);
    static final String REQUEST = "request";
    static final String STATUS = "status";
    static final String FILLING = "filling";
    static final String READY = "ready";
    static final String ASSIGN = "assign";
    static final String SPARE_PREFIX = "spare-";
    static final String PID = "pid";
    static final String LOG_FILE = "server.log";
    static final long START_SECONDS = 60;
    private static final long STOP_SECONDS = 10;
    private static final ConcurrentHashMap<String, Object> THREADS = new ConcurrentHashMap<>();

    private final Path directory;

    public LazyLayers(Path runRoot) {
        this.directory = runRoot.resolve("lazy");
    }

    public Path directory() {
        return directory;
    }

    /** Whether {@code file} is a FUSE file of this directory's servers (a lazy layer's loop backing file). */
    public boolean serves(Path file) {
        return file.startsWith(directory);
    }

    /** Whether a FUSE file is mounted now, i.e. its server has not unmounted it. */
    public static boolean mounted(Path file) {
        try {
            return MountTable.isMounted(file);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The FUSE file of the layer's running server, starting one for {@code request} when none runs. Fails when the
     * server cannot start; the launcher then fetches the layer whole.
     */
    Path serve(LazyRequest request) throws ContainerRuntimeException {
        return serve(request, null).orElseThrow();
    }

    /**
     * As {@link #serve(LazyRequest)}; a new server is the spare {@code spare} (ready, in {@code RUN/lazy/spare-*})
     * when one is given, and a new process otherwise. Empty when the spare found no chunk list for the layer in its
     * store (it stays a spare); the launcher then fetches the layer whole.
     */
    Optional<Path> serve(LazyRequest request, Spares.Spare spare) throws ContainerRuntimeException {
        Digest layer = request.layer().digest();
        synchronized (THREADS.computeIfAbsent(layer.hex(), k -> new Object())) {
            try {
                RunDirectory.createPrivateDirectory(directory);
                try (FileChannel channel = FileChannel.open(directory.resolve(layer.hex() + ".lock"),
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                        FileLock ignored = FileLocks.exclusive(channel)) {
                    Optional<Path> running = running(layer);
                    if (running.isPresent()) {
                        return running;
                    }
                    return spare == null ? Optional.of(start(request))
                            : Spares.assign(layerDirectory(request), request, spare);
                }
            } catch (IOException e) {
                throw new ContainerRuntimeException("Cannot start the server of lazy layer " + layer.shortHex()
                        + ": " + e.getMessage(), e);
            }
        }
    }

    /** The mounted FUSE file of a live server of the layer. */
    private Optional<Path> running(Digest layer) {
        Path dir = directory.resolve(layer.hex());
        Optional<ProcessIdentity> server = server(dir);
        if (server.isEmpty()) {
            return Optional.empty();
        }
        Path mountPoint = dir.resolve("mnt." + server.get().pid());
        return mounted(mountPoint) ? Optional.of(mountPoint) : Optional.empty();
    }

    /**
     * The live server process of a layer directory (or a spare's), by the pid and start time in its pid file: a
     * recycled pid is not taken for it, and an exited server its parent has not reaped yet is not alive.
     */
    Optional<ProcessIdentity> server(Path dir) {
        try {
            ProcessIdentity server = ProcessIdentity.parse(Files.readString(dir.resolve(PID)));
            return server.isAlive() ? Optional.of(server) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    Path layerDirectory(LazyRequest request) throws IOException {
        Path dir = RunDirectory.createPrivateDirectory(directory.resolve(request.layer().digest().hex()));
        Files.deleteIfExists(dir.resolve(READY));
        request.write(dir.resolve(REQUEST));
        Files.setPosixFilePermissions(dir.resolve(REQUEST), RunDirectory.PRIVATE_FILE);
        return dir;
    }

    private Path start(LazyRequest request) throws IOException, ContainerRuntimeException {
        Path dir = layerDirectory(request);
        Process process = new ProcessBuilder(ServerProcesses.command(dir.toString()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve(LOG_FILE).toFile()))
                .start();
        Files.writeString(dir.resolve(PID), ProcessIdentity.of(process.pid()).format());
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                return reader.readLine();
            } catch (IOException e) {
                return null;
            }
        });
        String answer;
        try {
            answer = line.get(START_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            answer = null;
        }
        if (answer != null && answer.startsWith(LazyLayerServer.READY)) {
            return Path.of(answer.substring(LazyLayerServer.READY.length()));
        }
        process.destroyForcibly();
        throw new ContainerRuntimeException("The server of lazy layer " + request.layer().digest().shortHex()
                + " did not start" + (answer == null ? "" : ": " + answer) + " (see " + dir.resolve(LOG_FILE) + ")");
    }

    /**
     * Ends the layer's server, if one runs, once its mount is released: TERM, then KILL after a while; then
     * nothing of it stays (its FUSE file is detached, its directory removed).
     */
    public void stop(Digest layer) {
        Path dir = directory.resolve(layer.hex());
        if (!Files.isDirectory(dir)) {
            return;
        }
        server(dir).ifPresent(server -> {
            ServerProcesses.signal(server, false);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_SECONDS);
            while (server.isAlive() && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (server.isAlive()) {
                LOG.warn("The server of lazy layer {} did not end on TERM; killing it", layer.shortHex());
                ServerProcesses.signal(server, true);
            }
        });
        remove(dir);
    }

    /** The FUSE files ({@code mnt.PID}) in a layer's directory: its server's, and those of servers before it. */
    static List<Path> fuseFiles(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(p -> p.getFileName().toString().startsWith("mnt.")).toList();
        }
    }

    /** Detaches whatever FUSE files are left in a server's directory and deletes it. */
    static void remove(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path entry : entries.toList()) {
                if (entry.getFileName().toString().startsWith("mnt.") && mounted(entry)) {
                    try {
                        Fuse.detach(entry.toString());
                    } catch (com.sun.jna.LastErrorException e) {
                        LOG.warn("Cannot detach {}: {}", entry, e.getMessage());
                    }
                }
                Files.deleteIfExists(entry);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            LOG.warn("Cannot remove {}: {}", dir, e.getMessage());
        }
    }

    /** A layer still being completed on this node. */
    public record Progress(Digest layer, boolean serverAlive, long fetchedBytes, int chunksPresent, int chunks,
            long size) {
    }

    /** The layers being served now, with their servers' last report. */
    public List<Progress> progress() {
        List<Progress> all = new ArrayList<>();
        for (Path dir : layerDirectories()) {
            Digest layer = new Digest(Digest.SHA256, dir.getFileName().toString());
            long[] numbers = {0, 0, 0, 0};
            try {
                String[] fields = Files.readString(dir.resolve(STATUS)).strip().split(" ");
                for (int i = 0; i < numbers.length && i < fields.length; i++) {
                    numbers[i] = Long.parseLong(fields[i]);
                }
            } catch (IOException | NumberFormatException e) {
                // not reported yet
            }
            all.add(new Progress(layer, server(dir).isPresent(), numbers[0], (int) numbers[1], (int) numbers[2],
                    numbers[3]));
        }
        return all;
    }

    List<Path> layerDirectories() {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.filter(Files::isDirectory).filter(p -> Digest.isHex(p.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** What {@link #collect} did. */
    public record Collected(int stopped, int restarted) {
    }

    /**
     * For {@code gc}, under the run directory lock: see {@link LazyCollection}; {@code releaseMount} releases the
     * layer mount of a dead server whose layer no container uses.
     */
    public Collected collect(Set<Digest> inUse, java.util.function.Consumer<Digest> releaseMount) {
        return LazyCollection.collect(this, inUse, releaseMount);
    }
}
