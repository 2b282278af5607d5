package dev.runcible.core.lazy;

import dev.runcible.api.Digest;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.container.RunDirectory;
import dev.runcible.core.host.Executables;
import dev.runcible.core.host.MountTable;
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
 *   RUN/lazy/HEX/pid         the server's pid
 *   RUN/lazy/HEX/mnt.PID     the FUSE file the layer's loop device reads
 *   RUN/lazy/HEX/status      fetched bytes, chunks present, chunks, size; rewritten every second
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
    static final String READY = "ready";
    static final String ASSIGN = "assign";
    private static final String SPARE_PREFIX = "spare-";
    private static final String PID = "pid";
    private static final String LOG_FILE = "server.log";
    private static final String READS_MAGIC = "runcible-prefetch 1";
    private static final long START_SECONDS = 60;
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
        return serve(request, null);
    }

    /**
     * As {@link #serve(LazyRequest)}; a new server is the spare {@code spare} (ready, in {@code RUN/lazy/spare-*})
     * when one is given, and a new process otherwise.
     */
    Path serve(LazyRequest request, Spare spare) throws ContainerRuntimeException {
        Digest layer = request.layer().digest();
        synchronized (THREADS.computeIfAbsent(layer.hex(), k -> new Object())) {
            try {
                RunDirectory.createPrivateDirectory(directory);
                try (FileChannel channel = FileChannel.open(directory.resolve(layer.hex() + ".lock"),
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                        FileLock ignored = FileLocks.exclusive(channel)) {
                    Optional<Path> running = running(layer);
                    if (running.isPresent()) {
                        return running.get();
                    }
                    return spare == null ? start(request) : assign(request, spare);
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
        Optional<ProcessHandle> server = server(dir);
        if (server.isEmpty()) {
            return Optional.empty();
        }
        Path mountPoint = dir.resolve("mnt." + server.get().pid());
        return mounted(mountPoint) ? Optional.of(mountPoint) : Optional.empty();
    }

    /**
     * The live server process of a layer directory, by its pid file and its command line: a server of this
     * directory's, started for the layer or as a spare.
     */
    private Optional<ProcessHandle> server(Path dir) {
        try {
            long pid = Long.parseLong(Files.readString(dir.resolve(PID)).strip());
            // Read here, not through ProcessHandle.Info, which leaves out the arguments of a long command line.
            byte[] commandLine = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            List<String> arguments = List.of(new String(commandLine, StandardCharsets.UTF_8).split("\0"));
            boolean ours = arguments.contains(LazyLayerServer.class.getName())
                    && arguments.stream().anyMatch(a -> a.startsWith(directory + "/"));
            return ours ? ProcessHandle.of(pid).filter(LazyLayers::running) : Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** {@code setsid java ... LazyLayerServer ARGS}: a session of its own, the launcher's class path. */
    private static List<String> command(String... arguments) {
        List<String> command = new ArrayList<>();
        Executables.find("setsid").ifPresent(setsid -> command.add(setsid.toString()));
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("-XX:+UseSerialGC", "-Xshare:auto", "-Xmx256m", "-Xss512k", "-XX:-UsePerfData"));
        Optional.ofNullable(System.getProperty("runcible.home")).ifPresent(h -> command.add("-Druncible.home=" + h));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), LazyLayerServer.class.getName()));
        command.addAll(List.of(arguments));
        return command;
    }

    private Path layerDirectory(LazyRequest request) throws IOException {
        Path dir = RunDirectory.createPrivateDirectory(directory.resolve(request.layer().digest().hex()));
        Files.deleteIfExists(dir.resolve(READY));
        request.write(dir.resolve(REQUEST));
        Files.setPosixFilePermissions(dir.resolve(REQUEST), RunDirectory.PRIVATE_FILE);
        return dir;
    }

    private Path start(LazyRequest request) throws IOException, ContainerRuntimeException {
        Path dir = layerDirectory(request);
        Process process = new ProcessBuilder(command(dir.toString()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve(LOG_FILE).toFile()))
                .start();
        Files.writeString(dir.resolve(PID), process.pid() + "\n");
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

    /** A spare server: its directory and process. */
    record Spare(Path directory, ProcessHandle process) {
        boolean ready() {
            return Files.exists(directory.resolve(READY)) && running(process);
        }
    }

    /**
     * Starts a spare server for launcher process {@code launcherPid}, loading the plugins of {@code warmUp}'s
     * settings and reaching the store of its layer; it is ready once it has written {@code ready}.
     */
    Spare startSpare(LazyRequest warmUp, long launcherPid, int serial) throws IOException {
        RunDirectory.createPrivateDirectory(directory);
        Path dir = RunDirectory.createPrivateDirectory(directory.resolve(SPARE_PREFIX + launcherPid + "-" + serial));
        warmUp.write(dir.resolve(REQUEST));
        Files.setPosixFilePermissions(dir.resolve(REQUEST), RunDirectory.PRIVATE_FILE);
        Process process = new ProcessBuilder(command(LazyLayerServer.SPARE, dir.toString(),
                Long.toString(launcherPid)))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve(LOG_FILE).toFile()))
                .start();
        Files.writeString(dir.resolve(PID), process.pid() + "\n");
        return new Spare(dir, process.toHandle());
    }

    /** Hands the layer to a ready spare and waits until it serves it. */
    private Path assign(LazyRequest request, Spare spare) throws IOException, ContainerRuntimeException {
        Path dir = layerDirectory(request);
        Files.writeString(dir.resolve(PID), spare.process().pid() + "\n");
        RunDirectory.writeAtomically(spare.directory().resolve(ASSIGN), dir.toString().getBytes(
                StandardCharsets.UTF_8));
        Path ready = dir.resolve(READY);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS);
        while (!Files.exists(ready)) {
            if (!running(spare.process()) || System.nanoTime() > deadline) {
                spare.process().destroyForcibly();
                throw new ContainerRuntimeException("The spare server given lazy layer "
                        + request.layer().digest().shortHex() + " did not serve it (see " + spare.directory()
                        .resolve(LOG_FILE) + ")");
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ContainerRuntimeException("Interrupted while a spare server took a layer", e);
            }
        }
        String answer = Files.readString(ready).strip();
        if (!answer.startsWith(LazyLayerServer.READY)) {
            throw new ContainerRuntimeException("The server of lazy layer " + request.layer().digest().shortHex()
                    + " did not start: " + answer + " (see " + dir.resolve(LOG_FILE) + ")");
        }
        return Path.of(answer.substring(LazyLayerServer.READY.length()));
    }

    /** Ends a spare server and removes its directory. */
    static void stopSpare(Spare spare) {
        spare.process().destroy();
        remove(spare.directory());
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
        server(dir).ifPresent(process -> {
            process.destroy();
            // Polled: onExit() of a process that is not a child polls far more slowly.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_SECONDS);
            while (running(process) && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (running(process)) {
                LOG.warn("The server of lazy layer {} did not end on TERM; killing it", layer.shortHex());
                process.destroyForcibly();
            }
        });
        remove(dir);
    }

    /**
     * Whether a process still runs: an exited one that its parent (init, once its launcher is gone) has not reaped
     * yet is a zombie, which {@link ProcessHandle#isAlive} counts as alive.
     */
    private static boolean running(ProcessHandle process) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException | RuntimeException e) {
            return false;
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

    private List<Path> layerDirectories() {
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
     * For {@code gc}, under the run directory lock: a server whose FUSE file no loop device reads any more is
     * stopped; a server that died while its layer is in use ({@code inUse}) is started again, and the new one takes
     * over the loop device; one that died with its layer unused is cleaned away, its mount released first.
     */
    public Collected collect(Set<Digest> inUse, java.util.function.Consumer<Digest> releaseMount) {
        int stopped = 0;
        int restarted = 0;
        if (Files.isDirectory(directory)) {
            try (Stream<Path> entries = Files.list(directory)) {
                for (Path spare : entries.filter(p -> p.getFileName().toString().startsWith(SPARE_PREFIX)).toList()) {
                    if (server(spare).isEmpty()) {
                        remove(spare); // its launcher and the spare are gone
                    }
                }
            } catch (IOException e) {
                LOG.warn("Cannot list {}: {}", directory, e.getMessage());
            }
        }
        for (Path dir : layerDirectories()) {
            Digest layer = new Digest(Digest.SHA256, dir.getFileName().toString());
            boolean alive = server(dir).isPresent();
            boolean read = loopUsers(dir);
            if (alive && !read) {
                stop(layer);
                stopped++;
            } else if (!alive && read && inUse.contains(layer)) {
                try {
                    serve(LazyRequest.read(dir.resolve(REQUEST)));
                    restarted++;
                } catch (IOException | dev.runcible.api.RuncibleException e) {
                    LOG.warn("Cannot restart the server of lazy layer {}: {}", layer.shortHex(), e.getMessage());
                }
            } else if (!alive) {
                if (read) {
                    releaseMount.accept(layer); // a mount on a dead FUSE file serves no one
                }
                remove(dir);
                stopped++;
            }
        }
        return new Collected(stopped, restarted);
    }

    private static boolean loopUsers(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path entry : entries.filter(p -> p.getFileName().toString().startsWith("mnt.")).toList()) {
                if (!Loops.backedBy(entry).isEmpty()) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    /** Where the first lazy start of a layer on this node records the chunks it read. */
    static Path readsRecord(Path lazyDirectory, Digest layer) {
        return lazyDirectory.resolve(layer.hex() + ".reads");
    }

    /** The layers whose first lazy start on this node was recorded. */
    public List<Digest> recordedLayers() {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".reads"))
                    .map(n -> n.substring(0, n.length() - ".reads".length())).filter(Digest::isHex)
                    .map(hex -> new Digest(Digest.SHA256, hex)).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The recorded reads of a layer, as a prefetch list's bytes; empty when none were recorded. */
    public Optional<byte[]> recordedReads(Digest layer) {
        try {
            return Optional.of(Files.readAllBytes(readsRecord(directory, layer)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static void writeReads(Path file, int chunkSize, List<Integer> order) throws IOException {
        StringBuilder text = new StringBuilder(READS_MAGIC).append("\nchunk-size ").append(chunkSize).append('\n');
        order.forEach(chunk -> text.append(chunk).append('\n'));
        RunDirectory.writeAtomically(file, text.toString().getBytes(StandardCharsets.US_ASCII));
    }

    /** The chunks of a prefetch list, for chunks of {@code chunkSize}; empty for a list made for another size. */
    static List<Integer> parseReads(byte[] bytes, int chunkSize) {
        String[] lines = new String(bytes, StandardCharsets.US_ASCII).split("\n");
        if (lines.length < 2 || !lines[0].equals(READS_MAGIC) || !lines[1].equals("chunk-size " + chunkSize)) {
            return List.of();
        }
        List<Integer> chunks = new ArrayList<>();
        for (int i = 2; i < lines.length; i++) {
            chunks.add(Integer.parseInt(lines[i].strip()));
        }
        return chunks;
    }
}
