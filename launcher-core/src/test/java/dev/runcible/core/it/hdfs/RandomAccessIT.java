package dev.runcible.core.it.hdfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.api.ResourceFetcher;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.Settings;
import java.io.EOFException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Positional reads through the fetchers, as a reader of parts of a layer makes them: a file in a real HDFS
 * (MiniDFSCluster, 1 MiB blocks, so reads cross blocks) and the same bytes in a local store read alike.
 */
class RandomAccessIT {
    private static final byte[] DATA = new byte[(3 << 20) + 17];
    @TempDir
    static Path dir;
    private static MiniDFSCluster cluster;
    private static String root;

    @BeforeAll
    static void setUp() throws Exception {
        new Random(16).nextBytes(DATA);
        Configuration conf = new Configuration();
        conf.set("dfs.namenode.safemode.extension", "0");
        conf.set("dfs.replication", "1");
        conf.set("dfs.blocksize", "1048576");
        conf.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
        cluster = new MiniDFSCluster.Builder(conf, dir.resolve("hdfs").toFile()).numDataNodes(1).build();
        cluster.waitActive();
        root = "hdfs://127.0.0.1:" + cluster.getNameNodePort() + "/runc-root";
        try (FSDataOutputStream out = cluster.getFileSystem().create(
                new org.apache.hadoop.fs.Path(root + "/layers/part.sqsh"))) {
            out.write(DATA);
        }
        Files.write(Files.createDirectories(dir.resolve("store/layers")).resolve("part.sqsh"), DATA);
    }

    @AfterAll
    static void tearDown() {
        if (cluster != null) {
            cluster.shutdown();
        }
    }

    private static Runcible open() throws Exception {
        return Runcible.open(Settings.of(Map.of("hdfs.root", root, "hadoop.conf.dfs.replication", "1",
                "local.root", dir.resolve("store").toString(), "squashfs.cache.dir", dir.resolve("cache").toString(),
                "runcible.run.dir", dir.resolve("run").toString()), Map.of()), RandomAccessIT.class.getClassLoader());
    }

    @Test
    void partsOfAFileAreReadAtAnyPositionFromHdfsAndALocalStoreAlike() throws Exception {
        try (Runcible runcible = open()) {
            for (URI location : List.of(URI.create(root + "/layers/part.sqsh"),
                    dir.resolve("store/layers/part.sqsh").toUri())) {
                ResourceFetcher fetcher = runcible.plugins().fetcher(location.getScheme());
                try (ResourceFetcher.RandomAccess file = fetcher.openRandomAccess(location).orElseThrow()) {
                    assertThat(file.size()).as(location.toString()).isEqualTo(DATA.length);
                    byte[] across = new byte[(1 << 20) + 10];
                    file.readFully((1 << 20) - 5, across, 3, across.length - 3); // crosses a block boundary
                    assertThat(Arrays.copyOfRange(across, 3, across.length))
                            .isEqualTo(Arrays.copyOfRange(DATA, (1 << 20) - 5, (2 << 20) + 2));
                    ResourceFetcher.Range tail = new ResourceFetcher.Range(DATA.length - 17, new byte[17]);
                    ResourceFetcher.Range middle = new ResourceFetcher.Range(2_000_000, new byte[65_536]);
                    file.readAll(List.of(tail, middle));
                    assertThat(tail.buffer()).isEqualTo(Arrays.copyOfRange(DATA, DATA.length - 17, DATA.length));
                    assertThat(middle.buffer()).isEqualTo(Arrays.copyOfRange(DATA, 2_000_000, 2_065_536));
                    byte[] next = new byte[1 << 20]; // where the read across the boundary ended, crossing another
                    file.readRange((2 << 20) + 2, next, 0, next.length);
                    assertThat(next).isEqualTo(Arrays.copyOfRange(DATA, (2 << 20) + 2, (3 << 20) + 2));
                    assertThatThrownBy(() -> file.readFully(DATA.length - 4, new byte[8], 0, 8))
                            .isInstanceOf(EOFException.class);
                    assertThatThrownBy(() -> file.readRange(DATA.length - 4, new byte[8], 0, 8))
                            .isInstanceOf(EOFException.class);
                    assertThatThrownBy(() -> file.readAll(List.of(new ResourceFetcher.Range(DATA.length, new byte[1]))))
                            .isInstanceOf(EOFException.class);
                }
            }
        }
    }

    @Test
    void aMissingFileIsATypedErrorNamingIt() throws Exception {
        try (Runcible runcible = open()) {
            for (URI location : List.of(URI.create(root + "/layers/missing.sqsh"),
                    dir.resolve("store/layers/missing.sqsh").toUri())) {
                assertThatThrownBy(() -> runcible.plugins().fetcher(location.getScheme()).openRandomAccess(location))
                        .isInstanceOf(ResourceUnavailableException.class).hasMessageContaining("missing")
                        .hasMessageContaining(location.getPath());
            }
        }
    }
}
