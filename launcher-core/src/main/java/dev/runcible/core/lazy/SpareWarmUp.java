package dev.runcible.core.lazy;

import dev.runcible.api.Digest;
import dev.runcible.api.RuncibleException;
import dev.runcible.store.ChunkList;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a spare server does before it says it is ready: what serving a layer does, run once on a layer of its store
 * (the launcher's last lazy one) and undone. Its start ({@link ServerStart}: the lists, the partial file, the FUSE
 * mount, the first chunks of its prefetch list), reads of chunks from the store, and reads through its FUSE file.
 * Then the classes are loaded, lambdas linked, libc bound, buffers set aside, the store's connection made and the
 * read path compiled: a layer assigned later pays none of that while a container waits on its reads. Measured:
 * from assignment to "ready" took 230 ms with no warm-up, 80 ms with one that read the lists and the store but did
 * not start a server, 40 to 60 ms with this.
 */
final class SpareWarmUp {
    private static final Logger LOG = LoggerFactory.getLogger(SpareWarmUp.class);
    /** Bytes read through the FUSE file. */
    private static final int FUSE_BYTES = 4 << 20;
    /** Chunks of the prefetch list fetched at the start, as a start does. */
    private static final int PREFETCHED = 16;
    /**
     * Chunks read from the store before: a store client's read path (the Hadoop client's above all) is compiled
     * only after some reads, and ran 5 times slower before that.
     */
    private static final int READS = 24;

    private SpareWarmUp() {
    }

    /** Never fails: a spare that could not warm up serves as well, only slower at first. */
    static void run(LazyLayerServer.Loaded loaded, Path spareDir) {
        try {
            ServerStart start = ServerStart.open(spareDir, loaded, PREFETCHED);
            start.begin();
            try {
                ChunkList chunks = start.chunks();
                byte[] buffer = new byte[chunks.chunkSize()];
                for (int i = 0; i < READS; i++) {
                    int chunk = (int) ((long) i * 7 % chunks.chunks()); // here and there, as a start reads
                    start.store().readFully(chunks.offset(chunk), buffer, 0, chunks.length(chunk));
                    chunks.matches(chunk, buffer, 0);
                }
                try (FileChannel reader = FileChannel.open(start.mountPoint(), StandardOpenOption.READ)) {
                    ByteBuffer read = ByteBuffer.allocate(128 << 10);
                    for (long at = 0; at < Math.min(chunks.size(), FUSE_BYTES); at += read.capacity()) {
                        reader.read(read.clear(), at);
                    }
                }
                start.awaitStartUp();
                int fetching = LazyLayerServer.FUSE_THREADS + LazyLayerServer.PREFETCH_PARALLEL + 2;
                start.file().reserveBuffers(fetching, LazyLayerServer.PREFETCH_PARALLEL);
                DirectBuffers.reserve(fetching, chunks.chunkSize());
            } finally {
                start.discard();
            }
        } catch (RuncibleException | IOException | RuntimeException e) {
            LOG.debug("warming up on {}: {}", loaded.request().layer().location(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Every chunk is hashed before it is served: SHA-256 runs at its intrinsic speed only once compiled.
        MessageDigest sha = Digest.newSha256();
        byte[] block = new byte[1 << 20];
        for (int i = 0; i < 48; i++) {
            sha.update(block);
        }
        sha.digest();
    }
}
