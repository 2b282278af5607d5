package dev.runcible.squashfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.api.Digest;
import dev.runcible.api.DigestMismatchException;
import dev.runcible.api.LocalizedResource;
import dev.runcible.api.OciResource;
import dev.runcible.api.PluginConfig;
import dev.runcible.api.PluginContext;
import dev.runcible.api.ResourceFetcher;
import dev.runcible.api.ResourceUnavailableException;
import java.io.ByteArrayInputStream;
import java.io.IOException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fetcher here is an in-memory stand-in for a store: what is tested is the cache's own logic. */
class SquashfsCacheTest {
    @TempDir
    Path cacheDir;

    private final AtomicInteger opens = new AtomicInteger();
    private volatile byte[] served = new byte[0];
    private volatile CountDownLatch gate;

    private final ResourceFetcher fetcher = location -> {
        opens.incrementAndGet();
        if (location.getPath().contains("missing")) {
            throw new ResourceUnavailableException("File " + location.getPath() + " does not exist");
        }
        if (gate != null) {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return new ByteArrayInputStream(served);
    };

    private SquashfsCache cache() {
        return new SquashfsCache(cacheDir, new PluginContext() {
            @Override
            public PluginConfig config() {
                throw new UnsupportedOperationException();
            }

            @Override
            public ResourceFetcher fetcher(String scheme) throws ResourceUnavailableException {
                if (!scheme.equals("mem")) {
                    throw new ResourceUnavailableException("No plugin fetches '" + scheme + ":' locations");
                }
                return fetcher;
            }
        }, new TarLayerConverter(TarLayerConverter.locate("tar2sqfs").toString()));
    }

    /** A squashfs superblock claiming {@code bytesUsed}, padded to {@code length}. */
    static byte[] squashfs(long bytesUsed, int length) {
        ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(0, SquashfsSuperblock.MAGIC);
        buffer.putLong(40, bytesUsed);
        return buffer.array();
    }

    static Digest sha256(byte[] bytes) throws Exception {
        return new Digest("sha256", HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
    }

    private static OciResource layer(Digest digest, Optional<Digest> contentDigest, String path) {
        return new OciResource(digest, "application/vnd.oci.image.layer.v1.tar", OciResource.Kind.LAYER,
                OciResource.Format.SQUASHFS, java.net.URI.create("mem:" + path), contentDigest, OptionalLong.empty());
    }

    private void assertNothingCached() throws IOException {
        try (Stream<Path> files = Files.walk(cacheDir)) {
            assertThat(files.filter(Files::isRegularFile)
                    .filter(p -> !p.getParent().getFileName().toString().equals("locks"))).isEmpty();
        }
    }

    @Test
    void localizesAVerifiedSquashfsLayerReadOnly() throws Exception {
        served = squashfs(4000, 4096);
        Digest layerDigest = new Digest("sha256", "1".repeat(64));
        LocalizedResource result = cache().localize(layer(layerDigest, Optional.of(sha256(served)), "/l.sqsh"));
        assertThat(result.path()).isEqualTo(cacheDir.resolve("layers/" + layerDigest.hex() + ".sqsh"));
        assertThat(Files.readAllBytes(result.path())).isEqualTo(served);
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(result.path())))
                .isEqualTo("r--r--r--");
        assertThat(cache().localize(layer(layerDigest, Optional.empty(), "/l.sqsh")).path()).isEqualTo(result.path());
        assertThat(opens).hasValue(1);
    }

    @Test
    void rejectsContentWhoseDigestDiffersAndCachesNothing() throws Exception {
        served = squashfs(4000, 4096);
        Digest wrong = new Digest("sha256", "9".repeat(64));
        assertThatThrownBy(() -> cache().localize(layer(new Digest("sha256", "1".repeat(64)), Optional.of(wrong),
                "/l.sqsh")))
                .isInstanceOf(DigestMismatchException.class)
                .hasMessageContaining("expected " + wrong).hasMessageContaining("got " + sha256(served));
        assertNothingCached();
    }

    @Test
    void rejectsATruncatedSquashfsFileAndCachesNothing() throws Exception {
        served = squashfs(8192, 4096);
        assertThatThrownBy(() -> cache().localize(layer(new Digest("sha256", "2".repeat(64)), Optional.empty(),
                "/store/layers/x.sqsh")))
                .isInstanceOf(ResourceUnavailableException.class)
                .hasMessageContaining("/store/layers/x.sqsh").hasMessageContaining("truncated")
                .hasMessageContaining("8192");
        assertNothingCached();
    }

    @Test
    void rejectsAFileThatIsNotSquashfs() throws Exception {
        served = new byte[200];
        assertThatThrownBy(() -> cache().localize(layer(new Digest("sha256", "3".repeat(64)), Optional.empty(),
                "/l.sqsh"))).isInstanceOf(ResourceUnavailableException.class).hasMessageContaining("magic");
        served = new byte[10];
        assertThatThrownBy(() -> cache().localize(layer(new Digest("sha256", "3".repeat(64)), Optional.empty(),
                "/l.sqsh"))).isInstanceOf(ResourceUnavailableException.class).hasMessageContaining("shorter");
        assertNothingCached();
    }

    @Test
    void checksConfigSizeAndDigest() throws Exception {
        served = "{\"config\":{}}".getBytes();
        Digest digest = sha256(served);
        OciResource wrongSize = new OciResource(digest, "c", OciResource.Kind.CONFIG, OciResource.Format.JSON,
                java.net.URI.create("mem:/c"), Optional.of(digest), OptionalLong.of(served.length + 1));
        assertThatThrownBy(() -> cache().localize(wrongSize)).isInstanceOf(DigestMismatchException.class)
                .hasMessageContaining("expected " + (served.length + 1) + " bytes, got " + served.length);
        assertNothingCached();
        OciResource good = new OciResource(digest, "c", OciResource.Kind.CONFIG, OciResource.Format.JSON,
                java.net.URI.create("mem:/c"), Optional.of(digest), OptionalLong.of(served.length));
        assertThat(cache().localize(good).path()).isEqualTo(cacheDir.resolve("config/" + digest.hex()));
    }

    @Test
    void reportsAMissingSourceAndAnUnknownScheme() {
        assertThatThrownBy(() -> cache().localize(layer(new Digest("sha256", "4".repeat(64)), Optional.empty(),
                "/missing.sqsh"))).isInstanceOf(ResourceUnavailableException.class)
                .hasMessageContaining("/missing.sqsh");
        OciResource hdfs = new OciResource(new Digest("sha256", "5".repeat(64)), "l", OciResource.Kind.LAYER,
                OciResource.Format.SQUASHFS, java.net.URI.create("hdfs://nn/x.sqsh"), Optional.empty(),
                OptionalLong.empty());
        assertThatThrownBy(() -> cache().localize(hdfs)).isInstanceOf(ResourceUnavailableException.class)
                .hasMessageContaining("'hdfs:'");
    }

    @Test
    void concurrentRequestsForOneDigestFetchItOnce() throws Exception {
        served = squashfs(4096, 4096);
        gate = new CountDownLatch(1);
        SquashfsCache cache = cache();
        OciResource resource = layer(new Digest("sha256", "6".repeat(64)), Optional.of(sha256(served)), "/l.sqsh");
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<LocalizedResource>> results = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            results.add(pool.submit(() -> cache.localize(resource)));
        }
        Thread.sleep(200); // let every caller arrive while the first fetch is held at the gate
        gate.countDown();
        for (Future<LocalizedResource> result : results) {
            assertThat(result.get().path()).exists();
        }
        pool.shutdown();
        assertThat(opens).hasValue(1);
    }

    @Test
    void convertsTarLayersAndRecordsTheSquashfsDigest() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(TarLayerConverter.locate("tar2sqfs")));
        served = Layers.sample().gzip();
        Digest digest = sha256(served);
        OciResource tar = new OciResource(digest, "application/vnd.oci.image.layer.v1.tar+gzip",
                OciResource.Kind.LAYER, OciResource.Format.TAR_GZIP, java.net.URI.create("mem:/l.tar.gz"),
                Optional.of(digest), OptionalLong.of(served.length));
        LocalizedResource result = cache().localize(tar);
        assertThat(result.path()).isEqualTo(cacheDir.resolve("layers/" + digest.hex() + ".sqsh"));
        assertThat(SquashfsSuperblock.check(result.path())).isNull();
        assertThat(result.fileDigest()).contains(sha256(Files.readAllBytes(result.path())));
        assertThat(cacheDir.resolve("layers/" + digest.hex() + ".sqsh.sha256"))
                .hasContent(result.fileDigest().orElseThrow().hex() + "  " + digest.hex() + ".sqsh");
        // A second cache object (another process) finds it, with the same recorded digest, without fetching.
        assertThat(cache().localize(tar).fileDigest()).isEqualTo(result.fileDigest());
        assertThat(opens).hasValue(1);
    }

    @Test
    void aTarLayerWithTheWrongDigestLeavesNothingCached() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(TarLayerConverter.locate("tar2sqfs")));
        served = Layers.sample().gzip();
        OciResource tar = new OciResource(new Digest("sha256", "8".repeat(64)), "l", OciResource.Kind.LAYER,
                OciResource.Format.TAR_GZIP, java.net.URI.create("mem:/l.tar.gz"),
                Optional.of(new Digest("sha256", "8".repeat(64))), OptionalLong.empty());
        assertThatThrownBy(() -> cache().localize(tar)).isInstanceOf(DigestMismatchException.class);
        assertNothingCached();
    }

}
