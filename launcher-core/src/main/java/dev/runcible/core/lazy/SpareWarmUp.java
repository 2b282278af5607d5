package dev.runcible.core.lazy;

import dev.runcible.api.Digest;
import dev.runcible.api.OciResource;
import dev.runcible.api.ResourceFetcher;
import dev.runcible.api.RuncibleException;
import dev.runcible.store.ChunkList;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a spare server does before it says it is ready: the path a layer takes on its first reads, run once on a
 * layer of its store (the launcher's last lazy one). Its chunk and prefetch lists are read and checked, its first
 * chunks are read through a FUSE file of the spare's own, fetched, verified and written to a scratch file. Then
 * the classes are loaded, libc is bound, the store's connection is made and SHA-256 is compiled: a layer assigned
 * later pays none of that while a container waits on its reads. Measured: from assignment to "ready" took 230 ms
 * before, 80 ms after.
 */
final class SpareWarmUp {
    private static final Logger LOG = LoggerFactory.getLogger(SpareWarmUp.class);
    /** Bytes read through the FUSE file; the scratch file holds at most these. */
    private static final int FUSE_BYTES = 4 << 20;
    /**
     * Chunks read from the store before: a store client's read path (the Hadoop client's above all) is compiled
     * only after some reads, and ran 5 times slower before that.
     */
    private static final int READS = 24;

    private SpareWarmUp() {
    }

    /** Never fails: a spare that could not warm up serves as well, only slower at first. */
    static void run(ResourceFetcher fetcher, OciResource sample, Path spareDir, int fetchBytes) {
        ExecutorService fetchers = Executors.newCachedThreadPool();
        try {
            LayerIndex.Opened opened = LayerIndex.open(fetcher, sample, fetchers);
            fetcher.version(sample.location()); // as the partial file's version is read: its first took 55 ms
            ChunkList chunks = opened.chunks();
            opened.prefetch().join();
            try (ResourceFetcher.RandomAccess store = opened.store()) {
                byte[] buffer = new byte[chunks.chunkSize()];
                for (int i = 0; i < READS; i++) {
                    int chunk = (int) ((long) i * 7 % chunks.chunks()); // here and there, as a start reads
                    store.readFully(chunks.offset(chunk), buffer, 0, chunks.length(chunk));
                    chunks.matches(chunk, buffer, 0);
                }
                throughFuse(chunks, store, spareDir, fetchers, fetchBytes);
                int fetching = LazyLayerServer.FUSE_THREADS + LazyLayerServer.PREFETCH_PARALLEL + 2;
                VerifiedFetch.reserveBuffers(fetching, LazyFile.bufferBytes(chunks.chunkSize(), fetchBytes));
                DirectBuffers.reserve(fetching, chunks.chunkSize());
                FuseFile.reserveBuffers(LazyLayerServer.FUSE_THREADS);
            }
        } catch (RuncibleException | IOException | RuntimeException e) {
            LOG.debug("warming up on {}: {}", sample.location(), e.getMessage());
        } finally {
            fetchers.shutdownNow();
        }
        // The renice a spare does when it takes a layer, run once: its first run took 7 ms of the hand-over. A spare
        // is at 19 already.
        Fuse.renice(19, LazyLayerServer.NOT_COMPILER);
        // Every chunk is hashed before it is served: SHA-256 runs at its intrinsic speed only once compiled.
        MessageDigest sha = Digest.newSha256();
        byte[] block = new byte[1 << 20];
        for (int i = 0; i < 48; i++) {
            sha.update(block);
        }
        sha.digest();
    }

    private static void throughFuse(ChunkList chunks, ResourceFetcher.RandomAccess store, Path spareDir,
            ExecutorService fetchers, int fetchBytes) throws IOException {
        Path scratch = spareDir.resolve("warm-up.partial");
        Path mountPoint = spareDir.resolve("mnt.warm-up");
        try {
            try (RandomAccessFile sparse = new RandomAccessFile(scratch.toFile(), "rw")) {
                sparse.setLength(chunks.size());
            }
            Files.deleteIfExists(mountPoint);
            Files.createFile(mountPoint);
            LazyFile file = new LazyFile("warm-up", chunks, store, scratch, fetchers, 10_000, fetchBytes);
            try (FuseFile fuse = FuseFile.mount(mountPoint, file, 2);
                    FileChannel reader = FileChannel.open(mountPoint, StandardOpenOption.READ)) {
                ByteBuffer buffer = ByteBuffer.allocate(128 << 10);
                long end = Math.min(chunks.size(), FUSE_BYTES);
                for (long at = 0; at < end; at += buffer.capacity()) {
                    buffer.clear();
                    reader.read(buffer, at);
                }
            } finally {
                file.close();
            }
        } finally {
            Files.deleteIfExists(scratch);
            Files.deleteIfExists(mountPoint);
        }
    }
}
