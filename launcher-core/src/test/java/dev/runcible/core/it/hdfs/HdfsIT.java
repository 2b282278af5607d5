package dev.runcible.core.it.hdfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.api.ImageReference;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.Settings;
import dev.runcible.core.container.ContainerManager;
import dev.runcible.core.container.RunRequest;
import dev.runcible.core.it.Cli;
import dev.runcible.core.it.RealNode;
import dev.runcible.core.plugin.TransferListener;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Images kept in a real HDFS (MiniDFSCluster: a NameNode and a DataNode in this JVM, on 127.0.0.1), read through
 * the real Hadoop client, launched as real containers.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HdfsIT {
    private static RealNode node;
    private static MiniDFSCluster cluster;
    private static String root;
    private static Path rootfs;
    private static int configs;

    @BeforeAll
    static void setUp() throws Exception {
        node = RealNode.create();
        Configuration conf = new Configuration();
        conf.set("dfs.namenode.safemode.extension", "0");
        conf.set("dfs.replication", "1");
        conf.set("dfs.blocksize", "1048576");
        conf.set("dfs.namenode.fs-limits.min-block-size", "1024");
        conf.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
        cluster = new MiniDFSCluster.Builder(conf, node.base.resolve("hdfs").toFile()).numDataNodes(1).build();
        cluster.waitActive();
        root = "hdfs://127.0.0.1:" + cluster.getNameNodePort() + "/runc-root";
        rootfs = node.base.resolve("rootfs-test_busybox_1");
        // A big file, so a layer spans several 1 MiB blocks.
        byte[] noise = new byte[6 << 20];
        new Random(1).nextBytes(noise);
        Files.write(rootfs.resolve("noise"), noise);
        Cli imported = Cli.run(config(Map.of()), "import", "dir:" + rootfs, "--to", root, "--tag", "hdfs/busybox:1",
                "--change", "CMD [\"sh\", \"-c\", \"echo from hdfs as $(id -u)\"]", "--change", "USER worker");
        assertThat(imported.exitCode()).as(imported.err()).isZero();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (cluster != null) {
            cluster.shutdown();
        }
        if (node != null) {
            node.close();
        }
    }

    /** A config reading from the HDFS store, with a fresh cache. */
    private static Map<String, String> settings(Map<String, String> extra) {
        Map<String, String> settings = new HashMap<>(node.settingsFor(Map.of(
                "runcible.image.tag-to-manifest", "hdfs",
                "runcible.image.manifest-to-resources", "hdfs",
                "hdfs.root", root,
                "hadoop.conf.dfs.replication", "1",
                "hadoop.conf.dfs.blocksize", "1048576",
                "squashfs.cache.dir", node.base.resolve("hdfs-cache-" + (++configs)).toString())));
        settings.putAll(extra);
        return settings;
    }

    private static Path config(Map<String, String> extra) throws Exception {
        return node.configFile("hdfs-" + (++configs), settings(extra));
    }

    private static Runcible open(Map<String, String> settings) throws Exception {
        return Runcible.open(Settings.of(settings, Map.of()), HdfsIT.class.getClassLoader());
    }

    private static FileSystem fs() throws Exception {
        return cluster.getFileSystem();
    }

    @Test
    @Order(1)
    void importsIntoHdfsAndRunsFromThere() throws Exception {
        org.apache.hadoop.fs.Path layers = new org.apache.hadoop.fs.Path(root + "/layers");
        // the layer, its squashfs digest record, its chunk list and the chunk list's record
        assertThat(fs().listStatus(layers)).hasSize(4);
        assertThat(fs().listStatus(layers)[0].getPermission()).isEqualTo(new FsPermission((short) 0444));
        Cli run = Cli.run(config(Map.of()), "run", "--rm", "hdfs/busybox:1");
        assertThat(run.err()).isEmpty();
        assertThat(run.out()).isEqualTo("from hdfs as 1000\n");
        assertThat(run.exitCode()).isZero();
        assertThat(Cli.run(config(Map.of()), "images").out()).contains("hdfs/busybox:1");
        node.assertNothingLeftRunning();
    }

    @Test
    @Order(2)
    void aChangedTagFileIsSeen() throws Exception {
        try (Runcible runcible = open(settings(Map.of("hdfs.tag-file.refresh-seconds", "0")))) {
            ImageReference reference = ImageReference.parse("hdfs/moving:1");
            assertThat(Cli.run(config(Map.of()), "tag", "--store", root, "hdfs/busybox:1", "hdfs/moving:1")
                    .exitCode()).isZero();
            String first = runcible.images().manifest(reference).manifest().digest().toString();
            Cli other = Cli.run(config(Map.of()), "import", "dir:" + rootfs, "--to", root, "--tag", "hdfs/moving:1",
                    "--change", "CMD [\"echo\", \"moved\"]");
            assertThat(other.exitCode()).as(other.err()).isZero();
            String second = runcible.images().manifest(reference).manifest().digest().toString();
            assertThat(second).isNotEqualTo(first);
        }
    }

    @Test
    @Order(3)
    void aLocalTagFileWorksWhenHdfsHasNone() throws Exception {
        String tags = new String(fs().open(new org.apache.hadoop.fs.Path(root + "/image-tag-to-hash")).readAllBytes(),
                StandardCharsets.UTF_8);
        String hash = tags.lines().filter(l -> l.startsWith("hdfs/busybox:1")).findFirst().orElseThrow()
                .replaceAll(".*:", "");
        String bare = "hdfs://127.0.0.1:" + cluster.getNameNodePort() + "/bare-root";
        org.apache.hadoop.fs.FileUtil.copy(fs(), new org.apache.hadoop.fs.Path(root), fs(),
                new org.apache.hadoop.fs.Path(bare), false, fs().getConf());
        fs().delete(new org.apache.hadoop.fs.Path(bare + "/image-tag-to-hash"), false);
        Path local = Files.writeString(node.base.resolve("local-tags"), "# node override\nlocal/only:1:" + hash + "\n");
        Cli run = Cli.run(config(Map.of("hdfs.root", bare, "hdfs.local-tag-file", local.toString())), "run", "--rm",
                "local/only:1", "--", "echo", "local override");
        assertThat(run.out()).isEqualTo("local override\n");
        assertThat(run.exitCode()).as(run.err()).isZero();
    }

    @Test
    @Order(4)
    void eightConcurrentLaunchesCopyEachBlobFromHdfsOnce() throws Exception {
        Map<URI, AtomicInteger> opens = new ConcurrentHashMap<>();
        try (Runcible runcible = open(settings(Map.of()))) {
            runcible.plugins().observeTransfers(new TransferListener() {
                @Override
                public void started(URI location) {
                    opens.computeIfAbsent(location, l -> new AtomicInteger()).incrementAndGet();
                }
            });
            ContainerManager containers = runcible.containers();
            ExecutorService pool = Executors.newFixedThreadPool(8);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<String>> ids = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                ids.add(pool.submit(() -> {
                    start.await();
                    return containers.run(RunRequest.of(ImageReference.parse("hdfs/busybox:1"), List.of("true")))
                            .record().id();
                }));
            }
            start.countDown();
            for (Future<String> id : ids) {
                String container = id.get(120, TimeUnit.SECONDS);
                assertThat(containers.await(container)).isZero();
                containers.remove(container, false);
            }
            pool.shutdown();
        }
        assertThat(opens).hasSize(2); // the config and the one layer
        assertThat(opens.values()).allMatch(count -> count.get() == 1);
        assertThat(opens.keySet()).allMatch(uri -> uri.getScheme().equals("hdfs"));
        node.assertNothingLeftRunning();
    }

    @Test
    @Order(5)
    void corruptManifestInHdfsIsRejected() throws Exception {
        String bad = "hdfs://127.0.0.1:" + cluster.getNameNodePort() + "/bad-root";
        org.apache.hadoop.fs.FileUtil.copy(fs(), new org.apache.hadoop.fs.Path(root), fs(),
                new org.apache.hadoop.fs.Path(bad), false, fs().getConf());
        String tags = new String(fs().open(new org.apache.hadoop.fs.Path(bad + "/image-tag-to-hash")).readAllBytes(),
                StandardCharsets.UTF_8);
        String hash = tags.lines().filter(l -> l.startsWith("hdfs/busybox:1:")).findFirst().orElseThrow()
                .substring("hdfs/busybox:1:".length());
        org.apache.hadoop.fs.Path manifest = new org.apache.hadoop.fs.Path(bad + "/manifests/" + hash);
        fs().delete(manifest, false);
        try (var out = fs().create(manifest)) {
            out.write("{\"tampered\": true}".getBytes(StandardCharsets.UTF_8));
        }
        Cli run = Cli.run(config(Map.of("hdfs.root", bad)), "run", "hdfs/busybox:1");
        assertThat(run.exitCode()).isEqualTo(125);
        assertThat(run.err()).contains("is corrupt").contains("/bad-root/manifests/" + hash);
    }

    @Test
    @Order(6)
    void unreachableNameNodeAndMissingRootFailQuicklyWithTheirPaths() throws Exception {
        int unused;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            unused = socket.getLocalPort();
        }
        String nowhere = "hdfs://127.0.0.1:" + unused + "/runc-root";
        long start = System.nanoTime();
        Cli unreachable = Cli.run(config(Map.of("hdfs.root", nowhere)), "run", "hdfs/busybox:1");
        assertThat(unreachable.exitCode()).isEqualTo(125);
        assertThat(unreachable.err()).contains(nowhere).contains("NameNode");
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(30);
        String missing = "hdfs://127.0.0.1:" + cluster.getNameNodePort() + "/no-such-root";
        Cli absent = Cli.run(config(Map.of("hdfs.root", missing)), "run", "hdfs/busybox:1");
        assertThat(absent.exitCode()).isEqualTo(125);
        assertThat(absent.err()).contains("Image store " + missing + " does not exist; check hdfs.root");
    }

    @Test
    @Order(7)
    void permissionDeniedNamesThePath() throws Exception {
        String locked = "hdfs://127.0.0.1:" + cluster.getNameNodePort() + "/locked-root";
        org.apache.hadoop.fs.FileUtil.copy(fs(), new org.apache.hadoop.fs.Path(root), fs(),
                new org.apache.hadoop.fs.Path(locked), false, fs().getConf());
        fs().setPermission(new org.apache.hadoop.fs.Path(locked), new FsPermission((short) 0700));
        // Another user, in a launcher process of its own: the JVM-wide Hadoop login cannot change in this one.
        Path config = config(Map.of("hdfs.root", locked));
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.runcible.core.cli.Main", "--config",
                config.toString(), "run", "hdfs/busybox:1");
        builder.environment().put("HADOOP_USER_NAME", "tenant");
        Process process = builder.redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isEqualTo(125);
        assertThat(output).contains("Permission denied").contains("lacks permission").contains("/locked-root");
    }

    @Test
    @Order(8)
    void aLocalStoreCopiedIntoHdfsStillAcceptsImports() throws Exception {
        Path local = node.base.resolve("store-to-copy");
        Cli first = Cli.run(config(Map.of()), "import", "dir:" + rootfs, "--to", local.toUri().toString(), "--tag",
                "copied/busybox:1", "--change", "CMD [\"echo\", \"copied\"]", "--change", "USER worker");
        assertThat(first.exitCode()).as(first.err()).isZero();
        assertThat(local.resolve(".image-tag-to-hash.flock")).exists();
        // What an earlier version's local writer left behind: an empty file under the HDFS lock's name.
        Files.writeString(local.resolve(".image-tag-to-hash.lock"), "");
        String copied = "hdfs://127.0.0.1:" + cluster.getNameNodePort() + "/copied-root";
        fs().copyFromLocalFile(false, true, new org.apache.hadoop.fs.Path(local.toUri()),
                new org.apache.hadoop.fs.Path(copied));
        long start = System.nanoTime();
        Cli second = Cli.run(config(Map.of()), "import", "dir:" + rootfs, "--to", copied, "--tag",
                "copied/busybox:2", "--change", "CMD [\"echo\", \"second\"]", "--change", "USER worker");
        assertThat(second.exitCode()).as(second.err()).isZero();
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(60);
        assertThat(fs().exists(new org.apache.hadoop.fs.Path(copied + "/.image-tag-to-hash.lock")))
                .as("released").isFalse();
        for (String name : List.of("copied/busybox:1", "copied/busybox:2")) {
            Cli run = Cli.run(config(Map.of("hdfs.root", copied)), "run", "--rm", name);
            assertThat(run.exitCode()).as(name + ": " + run.err()).isZero();
            assertThat(run.out()).isEqualTo(name.endsWith("1") ? "copied\n" : "second\n");
        }
        node.assertNothingLeftRunning();
    }

    @Test
    @Order(9)
    void aLiveLeaseIsWaitedForAndNamedAndAnExpiredOneBroken() throws Exception {
        String leased = "hdfs://127.0.0.1:" + cluster.getNameNodePort() + "/leased-root";
        org.apache.hadoop.fs.Path lock = new org.apache.hadoop.fs.Path(leased + "/.image-tag-to-hash.lock");
        try (var out = fs().create(lock)) {
            out.write("runcible-tag-lease 1\nholder otherhost:42:x\nlease-ms 1500\n".getBytes(StandardCharsets.UTF_8));
        }
        long start = System.nanoTime();
        Cli imported = Cli.run(config(Map.of()), "import", "dir:" + rootfs, "--to", leased, "--tag", "leased:1");
        assertThat(imported.exitCode()).as(imported.err()).isZero();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("waited for the lease")
                .isGreaterThan(1000);
        assertThat(fs().exists(lock)).isFalse();
    }

    @Test
    @Order(100)
    void aDataNodeStoppedDuringACopyGivesAClearErrorAndNoPartialFile() throws Exception {
        Map<String, String> settings = settings(Map.of());
        Path cache = Path.of(settings.get("squashfs.cache.dir"));
        AtomicBoolean stopped = new AtomicBoolean();
        long start;
        try (Runcible runcible = open(settings)) {
            runcible.plugins().observeTransfers(new TransferListener() {
                @Override
                public void transferred(URI location, long bytes) {
                    if (location.getPath().endsWith(".sqsh") && stopped.compareAndSet(false, true)) {
                        cluster.stopDataNode(0);
                    }
                }
            });
            start = System.nanoTime();
            assertThatThrownBy(() -> runcible.pull(ImageReference.parse("hdfs/busybox:1")))
                    .isInstanceOf(ResourceUnavailableException.class)
                    // The config and the layer download at once: either may be the one that names the lost block.
                    .hasMessageContaining("/runc-root/").hasMessageContaining("hdfs://");
        }
        assertThat(stopped).isTrue();
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(60);
        try (Stream<Path> files = Files.walk(cache)) {
            assertThat(files.filter(Files::isRegularFile).map(Path::toString))
                    .noneMatch(name -> name.endsWith(".sqsh") || name.endsWith(".part"));
        }
    }

}
