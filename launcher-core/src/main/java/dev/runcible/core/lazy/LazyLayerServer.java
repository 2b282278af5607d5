package dev.runcible.core.lazy;

import dev.runcible.api.Digest;
import dev.runcible.api.InvalidImageException;
import dev.runcible.api.OciResource;
import dev.runcible.api.ResourcesLocalizer;
import dev.runcible.api.RuncibleException;
import dev.runcible.core.config.CoreConfig;
import dev.runcible.core.config.Settings;
import dev.runcible.core.container.RunDirectory;
import dev.runcible.core.plugin.PluginLoader;
import dev.runcible.core.plugin.Plugins;
import dev.runcible.store.ChunkList;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process that serves one incomplete layer: {@code java ... LazyLayerServer RUN/lazy/HEX}. It mounts the layer
 * as a FUSE file ({@code RUN/lazy/HEX/mnt.PID}), tells its launcher on stdout, and from then on answers the loop
 * device's reads, fetching missing chunks first and the rest in the background. Once the file is whole and its
 * digest matches, it enters the cache, every loop device on the FUSE file is moved to it (LOOP_CHANGE_FD), and the
 * server unmounts and exits. TERM (a release of the layer's mount) unmounts and exits at once. A server started
 * where another one died adopts its loop devices. Its own session: no launcher or agent is its parent for long.
 */
public final class LazyLayerServer {
    private static final Logger LOG = LoggerFactory.getLogger(LazyLayerServer.class);
    static final int FUSE_THREADS = 8;
    static final int PREFETCH_PARALLEL = 4;
    static final int BACKGROUND_NICE = 10;
    static final String READY = "ready ";
    /** A spare's answer for a layer its store has no chunk list for: it stays a spare. */
    static final String UNINDEXED = "unindexed";
    static final String SPARE = "--spare";
    /** The threads a spare gives normal priority once warm: all but its JIT compilers. */
    static final Predicate<String> NOT_COMPILER = thread -> !thread.contains("CompilerThre");
    /** The status this process exits with: that of a TERM until it ends by itself. */
    private static volatile int exitStatus = 128 + 15;

    private LazyLayerServer() {
    }

    public static void main(String[] args) throws Exception {
        PrintStream ready = System.out;
        System.setOut(System.err);
        if (args[0].equals(SPARE)) {
            spare(Path.of(args[1]), Long.parseLong(args[2]));
            return;
        }
        Path dir = Path.of(args[0]);
        Loaded loaded;
        try {
            loaded = Loaded.of(LazyRequest.read(dir.resolve(LazyLayers.REQUEST)));
        } catch (RuncibleException | IOException | RuntimeException e) {
            LOG.error("Cannot load what serving {} needs: {}", dir, e.getMessage(), e);
            ready.println("failed " + e.getMessage());
            System.exit(1);
            return;
        }
        Consumer<String> tell = line -> {
            ready.println(line);
            ready.flush();
            ready.close();
        };
        ServerStart start;
        try {
            start = ServerStart.open(dir, loaded, Integer.MAX_VALUE);
        } catch (Exception e) {
            fail(dir, e, tell);
            return;
        }
        run(dir, loaded, start, tell);
    }

    private static void run(Path dir, Loaded loaded, ServerStart start, Consumer<String> ready) {
        try {
            serve(dir, loaded, start, ready);
            exitStatus = 0;
        } catch (Exception e) {
            fail(dir, e, ready);
        }
        System.exit(exitStatus);
    }

    private static void fail(Path dir, Exception e, Consumer<String> ready) {
        LOG.error("Serving {} failed: {}", dir, e.getMessage(), e);
        ready.accept("failed " + e.getMessage());
        exitStatus = 1;
        System.exit(exitStatus);
    }

    /** The server's plugins, loaded from the launcher's settings: its store's fetcher and the localizer. */
    record Loaded(LazyRequest request, Settings settings, LazyConfig lazy, CoreConfig core, Plugins plugins,
            ResourcesLocalizer localizer) {
        static Loaded of(LazyRequest request) throws RuncibleException {
            Settings settings = request.toSettings();
            CoreConfig core = CoreConfig.from(settings);
            String home = System.getProperty("runcible.home");
            Plugins plugins = new Plugins(PluginLoader.create(home == null ? null : Path.of(home, "plugins"),
                    System.getenv(PluginLoader.PLUGIN_PATH_ENV)), settings);
            // No check of unknown keys: the launcher checked these settings; the server reads only some of them.
            return new Loaded(request, settings, LazyConfig.from(settings), core, plugins,
                    plugins.localizer(CoreConfig.LOCALIZER, core.localizer()));
        }

        Loaded with(LazyRequest next) {
            return new Loaded(next, settings, lazy, core, plugins, localizer);
        }
    }

    /**
     * A spare server, kept by a resident launcher (the node agent) so that the next lazy layer is served by a JVM
     * that has loaded its plugins and reached the store already: it waits in {@code RUN/lazy/spare-*} until a
     * launcher writes {@code assign} there (the directory of the layer to serve, its request in it), then serves
     * that layer as any server does, telling its launcher through {@code ready} in the layer's directory. A layer
     * whose store has no chunk list it answers {@link #UNINDEXED} and stays a spare: the launcher need not ask the
     * store first (a round trip of 15 ms before every lazy start). It goes when its launcher's process does, or
     * when its directory does.
     */
    private static void spare(Path spareDir, long launcherPid) throws Exception {
        LazyRequest warmUp = LazyRequest.read(spareDir.resolve(LazyLayers.REQUEST));
        Loaded loaded = Loaded.of(warmUp);
        SpareWarmUp.run(loaded, spareDir);
        // The warm-up's garbage goes now, and what it keeps (buffers, classes) moves out of the young generation:
        // left there, it was copied by a collection 0.3 s into the next layer's serving that stopped every FUSE
        // read for 73 ms while the container started.
        System.gc();
        // It waits at normal priority (all but its JIT compilers, which took 160 to 290 ms of CPU while a container
        // started on the same cores, and which no read waits for): waiting costs nothing, and at nice 19 it noticed
        // an assignment up to 11 ms late on a busy node, then spent 3 to 7 ms of the hand-over renicing itself.
        Fuse.renice(0, NOT_COMPILER);
        RunDirectory.writeAtomically(spareDir.resolve(LazyLayers.READY), new byte[0]);
        Path assign = spareDir.resolve(LazyLayers.ASSIGN);
        while (true) {
            for (long checks = 0; !Files.exists(assign); checks++) {
                Thread.sleep(2);
                if (checks % 500 == 0 && (ProcessHandle.of(launcherPid).isEmpty() || !Files.isDirectory(spareDir))) {
                    LazyLayers.remove(spareDir);
                    System.exit(0);
                }
            }
            Path dir = Path.of(Files.readString(assign).strip());
            Loaded given = loaded.with(LazyRequest.read(dir.resolve(LazyLayers.REQUEST)));
            Path readyFile = dir.resolve(LazyLayers.READY);
            Consumer<String> tell = line -> {
                try {
                    RunDirectory.writeAtomically(readyFile, line.getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    LOG.error("Cannot tell the launcher through {}: {}", readyFile, e.getMessage());
                }
            };
            ServerStart start;
            try {
                start = ServerStart.open(dir, given, Integer.MAX_VALUE);
            } catch (LayerIndex.NotIndexedException e) {
                LOG.info("Not serving {}: {}", dir, e.getMessage());
                Files.delete(assign);
                tell.accept(UNINDEXED);
                continue;
            } catch (Exception e) {
                fail(dir, e, tell);
                return;
            }
            // Its directory goes once it has answered (the launcher waits for nothing else); until then the assign
            // file in it tells the launcher that it took the layer.
            run(dir, given, start, line -> {
                tell.accept(line);
                daemon("spare-removal", () -> LazyLayers.remove(spareDir)).start();
            });
            return;
        }
    }

    private static void serve(Path dir, Loaded loaded, ServerStart start, Consumer<String> ready) throws Exception {
        CoreConfig core = loaded.core();
        OciResource layer = loaded.request().layer();
        LazyFile file = start.file();
        FuseFile fuse = start.fuse();
        ResourcesLocalizer.PartialLayer partial = start.partial();
        ChunkList chunks = start.chunks();
        Path mountPoint = start.mountPoint();
        boolean[] published = {false};
        AtomicReference<Runnable> record = new AtomicReference<>(() -> { });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            fuse.close();
            record.get().run();
            if (!published[0]) {
                partial.discard();
            }
            deleteQuietly(mountPoint);
            // Nothing else is left to do: the store client holds no writes, and a launcher waits on this exit.
            Runtime.getRuntime().halt(exitStatus);
        }));
        // The launcher's mount waits on this: what the reads to come do not need is done after it (before it, on a
        // node busy with the first fetches, they took 10 to 25 ms).
        ready.accept(READY + mountPoint);
        start.begin();
        LOG.info("Serving {} at {}", layer.digest().shortHex(), mountPoint);
        WriteBack.start(file);
        Loops.adoptOrphans(dir, mountPoint); // loop devices of a server of this layer that died
        Thread status = new Thread(() -> reportStatus(dir, file, chunks), "status");
        status.setDaemon(true);
        status.start();

        Path recorded = PrefetchLists.record(dir.getParent(), layer.digest());
        record.set(recorder(start.prefetchList().isEmpty() && !Files.exists(recorded), recorded, file, chunks));
        start.awaitStartUp();
        Runnable filling = () -> {
            record.get().run();
            try {
                RunDirectory.writeAtomically(dir.resolve(LazyLayers.FILLING), new byte[0]);
            } catch (IOException e) {
                LOG.debug("cannot mark the fill's start: {}", e.getMessage());
            }
        };
        if (!file.fill(loaded.lazy().fillPauseMillis(), filling)) {
            LOG.error("Layer {} cannot be completed; serving what it has until its mount is released",
                    layer.digest());
            fuse.awaitUnmounted();
            return;
        }
        Digest whole = Digest.of(partial.file());
        if (!whole.equals(chunks.fileDigest())) {
            throw new InvalidImageException("The completed " + layer.digest().shortHex() + " hashes to " + whole
                    + ", not " + chunks.fileDigest());
        }
        Path cached = partial.publish(whole).path();
        published[0] = true;
        LOG.info("Layer {} is whole ({} bytes fetched); moving its loop devices to {}", layer.digest(),
                file.fetchedBytes(), cached);
        new RunDirectory(core.runDir()).locked(() -> {
            try {
                for (String device : Loops.backedBy(mountPoint)) {
                    Fuse.changeLoopBacking(device, cached.toString());
                }
            } catch (IOException e) {
                throw new dev.runcible.core.ContainerRuntimeException("Cannot list the loop devices: "
                        + e.getMessage(), e);
            }
            fuse.close();
            LazyLayers.remove(dir); // nothing is left to serve: the layer is an ordinary cached one now
            return null;
        });
        start.finish();
    }

    /**
     * Writes, once, the chunks containers read before the background fill began (their start-up), in order: the
     * first lazy start of a layer on a node records them, unless the store has a prefetch list already. Called
     * when the fill begins, and at exit if it never did.
     */
    private static Runnable recorder(boolean recording, Path recorded, LazyFile file, ChunkList chunks) {
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean(!recording);
        return () -> {
            if (done.compareAndSet(false, true) && !file.readOrder().isEmpty()) {
                try {
                    PrefetchLists.write(recorded, chunks.chunkSize(), file.readOrder());
                } catch (IOException e) {
                    LOG.warn("Cannot record the reads of the layer's start in {}: {}", recorded, e.getMessage());
                }
            }
        };
    }

    private static void reportStatus(Path dir, LazyFile file, ChunkList chunks) {
        Path status = dir.resolve(LazyLayers.STATUS);
        while (true) {
            try {
                RunDirectory.writeAtomically(status, (file.fetchedBytes() + " " + file.presentChunks() + " "
                        + chunks.chunks() + " " + chunks.size() + "\n").getBytes(StandardCharsets.US_ASCII));
                Thread.sleep(1000);
            } catch (IOException e) {
                return;
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Threads for the fetches no read waits on yet (the prefetch list, chunks read ahead, the fill): below normal
     * priority, so that on a busy node the container they are fetched for, and its launcher, run first. A read that
     * needs a chunk fetches it on its own thread, at normal priority.
     */
    static java.util.concurrent.ThreadFactory background(String name) {
        return task -> daemon(name, () -> {
            Fuse.reniceThisThread(BACKGROUND_NICE);
            task.run();
        });
    }

    static Thread daemon(String name, Runnable task) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        return thread;
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // left for gc
        }
    }
}
