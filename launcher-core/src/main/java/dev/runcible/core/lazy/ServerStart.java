package dev.runcible.core.lazy;

import dev.runcible.api.InvalidImageException;
import dev.runcible.api.OciResource;
import dev.runcible.api.ResourceFetcher;
import dev.runcible.api.ResourcesLocalizer;
import dev.runcible.api.RuncibleException;
import dev.runcible.store.ChunkList;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A layer's server from the moment it is given the layer to the moment it can say "ready": the store's lists, the
 * partial file and the FUSE mount, made side by side; then, once it has said so, the fetches of what the container's
 * start reads ({@link #begin}).
 * A spare runs this once on its warm-up layer and undoes it ({@link #discard}): a layer assigned later runs the
 * same code with its classes loaded, its lambdas linked and its buffers kept, while a container waits on it.
 */
final class ServerStart {
    /** The squashfs tables are fetched all at once (at most {@link SquashfsTables#MAX_BYTES}). */
    private static final int TABLE_FETCHES = 32;

    private final LazyFile file;
    private final FuseFile fuse;
    private final ResourcesLocalizer.PartialLayer partial;
    private final LayerIndex.Opened opened;
    private final Path mountPoint;
    private final ExecutorService fetchers;
    private final ExecutorService starters;
    private final int prefetchLimit;
    private CompletableFuture<Void> startUp = CompletableFuture.completedFuture(null);

    private ServerStart(LazyFile file, FuseFile fuse, ResourcesLocalizer.PartialLayer partial,
            LayerIndex.Opened opened, Path mountPoint, ExecutorService fetchers, ExecutorService starters,
            int prefetchLimit) {
        this.file = file;
        this.fuse = fuse;
        this.partial = partial;
        this.opened = opened;
        this.mountPoint = mountPoint;
        this.fetchers = fetchers;
        this.starters = starters;
        this.prefetchLimit = prefetchLimit;
    }

    /**
     * Begins the fetches of what the container's start reads, beside the launcher's mount: the prefetch list, which
     * begins with what the mount reads; with none, the mount's first reads (the end of the image; the superblock
     * comes with the tables), then the tables the superblock points to, all at once and below normal priority (32
     * fetches at normal priority held up the launcher's mount). Called once "ready" is told: begun before it, their
     * threads took the cores from the server's last steps to "ready" for 10 to 25 ms.
     */
    void begin() {
        ChunkList chunks = opened.chunks();
        this.startUp = opened.prefetch().thenAcceptAsync(list -> {
            if (list.isEmpty()) {
                CompletableFuture<Void> end = CompletableFuture.runAsync(
                        () -> file.prefetch(List.of(chunks.chunks() - 1), 1, false, starters), starters);
                file.prefetch(tables(file, chunks), TABLE_FETCHES, false, fetchers);
                end.join();
            } else {
                file.prefetch(list.subList(0, Math.min(list.size(), prefetchLimit)), LazyLayerServer.PREFETCH_PARALLEL,
                        true, starters);
            }
        }, starters);
    }

    /**
     * Serves {@code loaded}'s layer at {@code dir/mnt.PID}, fetching at most {@code prefetchLimit} chunks of its
     * prefetch list at the start. Nothing of it stays when this fails.
     */
    static ServerStart open(Path dir, LazyLayerServer.Loaded loaded, int prefetchLimit)
            throws RuncibleException, IOException {
        OciResource layer = loaded.request().layer();
        ResourceFetcher fetcher = loaded.plugins().fetcher(layer.location().getScheme());
        ResourcesLocalizer localizer = loaded.localizer();
        ExecutorService fetchers = Executors.newCachedThreadPool(LazyLayerServer.background("fetch"));
        // What the container's start waits on: normal priority (a store's list read at nice 10 waited 10 to 40 ms
        // for a core while the FUSE threads started).
        ExecutorService starters = Executors.newCachedThreadPool(task -> LazyLayerServer.daemon("start", task));
        // The store's lists, the partial file and the FUSE mount, side by side: each waits on a system call or a
        // round trip, and the launcher waits for all three.
        CompletableFuture<ResourcesLocalizer.PartialLayer> partialFile = LayerIndex.async(() ->
                localizer.partial(layer).orElseThrow(() -> new InvalidImageException("The localizer '"
                        + loaded.core().localizer() + "' keeps no partial layers")), starters);
        Path mountPoint = dir.resolve("mnt." + ProcessHandle.current().pid());
        Files.deleteIfExists(mountPoint);
        Files.createFile(mountPoint);
        FuseFile.Deferred source = new FuseFile.Deferred();
        // On a thread of normal priority: the FUSE threads it starts take its priority, and serve the container.
        CompletableFuture<FuseFile> mounted = LayerIndex.async(() -> FuseFile.mount(mountPoint, source,
                LazyLayerServer.FUSE_THREADS, loaded.lazy().ioUring()), task -> new Thread(task, "mount").start());
        try {
            LayerIndex.Opened opened = LayerIndex.open(fetcher, layer, starters);
            ResourcesLocalizer.PartialLayer partial = LayerIndex.join(partialFile);
            try (RandomAccessFile sparse = new RandomAccessFile(partial.file().toFile(), "rw")) {
                sparse.setLength(opened.chunks().size());
            }
            LazyFile file = new LazyFile(layer.digest().shortHex(), opened.chunks(), opened.store(), partial.file(),
                    fetchers, loaded.lazy().fetchTimeoutMillis(), loaded.lazy().fetchBytes(),
                    LazyFile.PREFETCH_PIECE_BYTES);
            source.give(file);
            return new ServerStart(file, LayerIndex.join(mounted), partial, opened, mountPoint, fetchers, starters,
                    prefetchLimit);
        } catch (RuncibleException | IOException | RuntimeException e) {
            source.fail(e);
            mounted.thenAccept(FuseFile::close).exceptionally(ignored -> null).join();
            partialFile.thenAccept(ResourcesLocalizer.PartialLayer::discard).exceptionally(ignored -> null).join();
            Files.deleteIfExists(mountPoint);
            fetchers.shutdownNow();
            starters.shutdownNow();
            throw e;
        }
    }

    /**
     * The chunks of the squashfs tables, which the mount and every path lookup read (found from the superblock,
     * read first); none when the layer is not squashfs 4 after all.
     */
    private static List<Integer> tables(LazyFile file, ChunkList chunks) {
        java.nio.ByteBuffer superblock = java.nio.ByteBuffer.allocate(SquashfsTables.SUPERBLOCK);
        try {
            file.read(0, superblock);
        } catch (IOException e) {
            return List.of(); // the container's reads will say more
        }
        return SquashfsTables.chunks(superblock.flip(), chunks.chunkSize(), chunks.chunks());
    }

    LazyFile file() {
        return file;
    }

    FuseFile fuse() {
        return fuse;
    }

    ResourcesLocalizer.PartialLayer partial() {
        return partial;
    }

    ChunkList chunks() {
        return opened.chunks();
    }

    ResourceFetcher.RandomAccess store() {
        return opened.store();
    }

    Path mountPoint() {
        return mountPoint;
    }

    /** The store's prefetch list (none when it has no list, or it could not be read). */
    List<Integer> prefetchList() {
        return opened.prefetch().join();
    }

    /** Waits until what the container's start reads has been fetched (failures are left to its own reads). */
    void awaitStartUp() {
        startUp.exceptionally(ignored -> null).join();
    }

    /** Once the file is whole (or undone): the local file and the store are closed and the fetches stopped. */
    void finish() throws IOException, InterruptedException {
        file.close();
        opened.store().close();
        fetchers.shutdownNow();
        starters.shutdownNow();
        fetchers.awaitTermination(5, TimeUnit.SECONDS);
    }

    /** Undoes it all: the mount goes, the partial file is deleted, then as {@link #finish}. */
    void discard() throws IOException, InterruptedException {
        fuse.close();
        partial.discard();
        Files.deleteIfExists(mountPoint);
        finish();
    }
}
