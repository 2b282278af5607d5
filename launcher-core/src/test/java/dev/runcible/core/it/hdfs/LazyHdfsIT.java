package dev.runcible.core.it.hdfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.core.it.Cli;
import dev.runcible.core.it.JreRootfs;
import dev.runcible.core.it.RealNode;
import dev.runcible.core.lazy.LazyLayers;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A 1 GB worker image (a JRE and 800 MiB nobody reads) started lazily from a real HDFS (MiniDFSCluster on
 * 127.0.0.1): the worker prints before a quarter of its layer has crossed the network, and when the NameNode goes
 * away, reads of what is missing fail with EIO within the fetch timeout instead of hanging.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LazyHdfsIT {
    private static final String IMAGE = "hdfs/jre:1";
    private static RealNode node;
    private static MiniDFSCluster cluster;
    private static String root;
    private static int configs;

    @BeforeAll
    static void setUp() throws Exception {
        node = RealNode.create();
        Configuration conf = new Configuration();
        conf.set("dfs.namenode.safemode.extension", "0");
        conf.set("dfs.replication", "1");
        // Blocks of 1 MiB: a reader knows where the first few are, and must ask the NameNode for the rest.
        conf.set("dfs.blocksize", "1048576");
        conf.set("dfs.namenode.fs-limits.min-block-size", "1024");
        conf.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
        cluster = new MiniDFSCluster.Builder(conf, node.base.resolve("hdfs").toFile()).numDataNodes(1).build();
        cluster.waitActive();
        root = "hdfs://127.0.0.1:" + cluster.getNameNodePort() + "/runc-root";
        Path rootfs = node.base.resolve("rootfs-jre");
        RealNode.copyTree(node.base.resolve("rootfs-test_busybox_1"), rootfs);
        JreRootfs.addTo(rootfs, 800L << 20);
        Cli imported = Cli.run(config(Map.of()), "import", "dir:" + rootfs, "--to", root, "--tag", IMAGE,
                "--change", "USER worker");
        assertThat(imported.exitCode()).as(imported.err()).isZero();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (node != null) {
            node.removeAllContainers();
        }
        if (cluster != null) {
            cluster.shutdown();
        }
        if (node != null) {
            node.close();
        }
    }

    private static Path config(Map<String, String> extra) throws Exception {
        Map<String, String> settings = new HashMap<>(Map.of(
                "runcible.image.tag-to-manifest", "hdfs",
                "runcible.image.manifest-to-resources", "hdfs",
                "hdfs.root", root,
                "hadoop.conf.dfs.replication", "1",
                "hadoop.conf.dfs.blocksize", "1048576",
                "squashfs.lazy", "true",
                "squashfs.lazy.fill-pause-millis", "60000",
                "squashfs.cache.dir", node.base.resolve("cache-" + (++configs)).toString()));
        settings.putAll(extra);
        return node.configFile("lazy-hdfs-" + configs, settings);
    }

    private static LazyLayers.Progress progress() {
        return new LazyLayers(node.runDir).progress().stream().findFirst().orElseThrow();
    }

    private static String awaitOutput(Path config, String name, String expected) throws InterruptedException {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (true) {
            String out = Cli.run(config, "logs", name).out();
            if (out.contains(expected) || System.nanoTime() > deadline) {
                return out;
            }
            Thread.sleep(20);
        }
    }

    @Test
    @Order(1)
    void aOneGigabyteWorkerPrintsBeforeAQuarterOfItsLayerIsFetched() throws Exception {
        Path config = config(Map.of());
        Cli run = Cli.run(config, "run", "--detach", "--name", "jre", IMAGE, "--", "sh", "-c",
                JreRootfs.JAVA + " -Xshare:auto -version 2>&1; sleep 120");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(awaitOutput(config, "jre", "version")).contains("version");
        Thread.sleep(1100); // the server's next report, which can only have grown since the output
        LazyLayers.Progress progress = progress();
        assertThat(progress.size()).as("the layer's size").isGreaterThan(900L << 20);
        assertThat(progress.fetchedBytes()).as("bytes fetched of %d", progress.size())
                .isLessThan(progress.size() / 4);
        assertThat(Cli.run(config, "rm", "--force", "jre").exitCode()).isZero();
    }

    @Test
    @Order(2)
    void withTheNameNodeGoneAReadOfAMissingChunkFailsWithinTheBound() throws Exception {
        Path config = config(Map.of("squashfs.lazy.fetch-timeout-seconds", "5"));
        Cli run = Cli.run(config, "run", "--detach", "--name", "orphan", IMAGE, "--", "sleep", "120");
        assertThat(run.exitCode()).as(run.err()).isZero();
        cluster.shutdownNameNode(0);
        long started = System.nanoTime();
        Cli read = Cli.run(config, "exec", "orphan", "--", "sh", "-c", "cat /data/unread-7 > /dev/null");
        long seconds = (System.nanoTime() - started) / 1_000_000_000L;
        assertThat(read.exitCode()).as("the read fails: %s", read.err()).isNotZero();
        assertThat(read.err()).contains("Input/output error");
        assertThat(seconds).as("seconds until the read failed").isLessThan(60);
        assertThat(Cli.run(config, "rm", "--force", "orphan").exitCode()).isZero();
        assertThat(new LazyLayers(node.runDir).progress()).as("no server is left").isEmpty();
    }
}
