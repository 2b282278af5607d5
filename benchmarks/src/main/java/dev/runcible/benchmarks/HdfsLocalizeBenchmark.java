package dev.runcible.benchmarks;

import dev.runcible.api.Descriptor;
import dev.runcible.api.Digest;
import dev.runcible.api.ImageReference;
import dev.runcible.api.ImageStore;
import dev.runcible.api.MediaTypes;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.Settings;
import dev.runcible.core.image.OciManifests;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * Localization throughput from HDFS: {@code Runcible.pull} of an image in an HDFS store (layers fetched
 * concurrently into the node cache, every byte verified against the recorded squashfs digest) against Hadoop's own
 * {@code FileSystem.copyToLocalFile} of the same files one after another, as Storm's and YARN's localizers do.
 * A MiniDFSCluster (a real NameNode and DataNode) serves both, in this JVM, on 127.0.0.1. Goal: at least 0.9.
 *
 * <p>Usage: {@code bin/benchmark hdfs [--size-mb 256] [--layers 4] [--runs 5]}
 */
public final class HdfsLocalizeBenchmark {
    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        int sizeMb = 256;
        int layers = 4;
        int runs = 5;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--size-mb" -> sizeMb = Integer.parseInt(args[++i]);
                case "--layers" -> layers = Integer.parseInt(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("Unknown option " + args[i]);
            }
        }
        Path home = Path.of(System.getProperty("runcible.home", ".")).toAbsolutePath().normalize();
        Path work = Files.createTempDirectory("runcible-bench-hdfs-");
        Configuration conf = new Configuration();
        conf.set("dfs.namenode.safemode.extension", "0");
        conf.set("dfs.replication", "1");
        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, work.resolve("dfs").toFile()).numDataNodes(1)
                .build();
        try {
            cluster.waitActive();
            String root = "hdfs://127.0.0.1:" + cluster.getNameNodePort() + "/runc-root";
            Map<String, String> settings = new HashMap<>(Map.of(
                    "runcible.image.tag-to-manifest", "hdfs", "runcible.image.manifest-to-resources", "hdfs",
                    "hdfs.root", root, "hadoop.conf.dfs.replication", "1",
                    "runcible.run.dir", work.resolve("run").toString(),
                    "squashfs.cache.dir", work.resolve("cache").toString()));
            System.out.printf(Locale.ROOT, "Writing a %d-layer image of %d MB into %s ...%n", layers, sizeMb, root);
            List<String> layerFiles;
            try (Runcible runcible = Runcible.open(Settings.of(settings, Map.of()),
                    HdfsLocalizeBenchmark.class.getClassLoader());
                    ImageStore store = runcible.openStore(java.net.URI.create(root))) {
                layerFiles = writeImage(store, work, root, sizeMb, layers);
            }
            long bytes = (long) sizeMb * 1_000_000;
            FileSystem fs = FileSystem.newInstance(java.net.URI.create(root), conf);
            List<Double> ours = new ArrayList<>();
            List<Double> hadoop = new ArrayList<>();
            try (Runcible runcible = Runcible.open(Settings.of(settings, Map.of()),
                    HdfsLocalizeBenchmark.class.getClassLoader())) {
                ImageReference image = ImageReference.parse("bench/hdfs:1");
                runcible.pull(image); // warm-up, as a long-running node agent would be
                for (int run = 0; run < runs; run++) {
                    RegistryPullBenchmark.delete(work.resolve("cache"));
                    long start = System.nanoTime();
                    runcible.pull(image);
                    ours.add((System.nanoTime() - start) / 1e9);
                    Path copies = work.resolve("copies");
                    RegistryPullBenchmark.delete(copies);
                    Files.createDirectories(copies);
                    start = System.nanoTime();
                    for (String file : layerFiles) {
                        fs.copyToLocalFile(new org.apache.hadoop.fs.Path(file),
                                new org.apache.hadoop.fs.Path(copies.resolve(Path.of(file).getFileName().toString())
                                        .toUri()));
                    }
                    hadoop.add((System.nanoTime() - start) / 1e9);
                    System.out.printf(Locale.ROOT, "run %d: Runcible.pull %.2f s, copyToLocalFile %.2f s%n", run + 1,
                            ours.get(run), hadoop.get(run));
                }
            }
            fs.close();
            Measure.Summary a = Measure.summarize(ours);
            Measure.Summary b = Measure.summarize(hadoop);
            double ratio = b.median() / a.median();
            String report = """
                    # HDFS localization

                    %s, %d cores. %d layers, %d MB in all, in a MiniDFSCluster (NameNode + DataNode) on 127.0.0.1,
                    in the benchmark's own JVM; %d interleaved runs after one warm-up pull, cold node cache each time.

                    | | median (min–max) | throughput |
                    |---|---|---|
                    | `Runcible.pull` (concurrent, digest-verified) | %s | %.0f MB/s |
                    | `FileSystem.copyToLocalFile`, file after file | %s | %.0f MB/s |
                    | **throughput ratio** (goal ≥ 0.9) | **%.2f** | |
                    """.formatted(LocalDate.now(), Runtime.getRuntime().availableProcessors(), layers, sizeMb, runs,
                    a.format(), bytes / 1e6 / a.median(), b.format(), bytes / 1e6 / b.median(), ratio);
            System.out.println();
            System.out.println(report);
            Path results = home.resolve("benchmarks/results");
            Files.createDirectories(results);
            Files.writeString(results.resolve("hdfs-localize.md"), report);
            Results.write(home, "hdfs-localize", List.of(new Results.Figure(
                    "HDFS localization throughput / copyToLocalFile", ratio, 0.9, false, "x")));
            System.out.println("Written to " + results.resolve("hdfs-localize.md"));
        } finally {
            cluster.shutdown();
            RegistryPullBenchmark.delete(work);
        }
    }

    /** Squashfs-shaped random layers (a valid superblock size field) and a manifest, tagged bench/hdfs:1. */
    private static List<String> writeImage(ImageStore store, Path work, String root, int sizeMb, int layers)
            throws Exception {
        Random random = new Random(3);
        List<Descriptor> layerDescriptors = new ArrayList<>();
        List<String> files = new ArrayList<>();
        long perLayer = (long) sizeMb * 1_000_000 / layers;
        for (int l = 0; l < layers; l++) {
            Path file = work.resolve("layer-" + l + ".sqsh");
            try (OutputStream out = Files.newOutputStream(file)) {
                byte[] block = new byte[1 << 20];
                for (long written = 0; written < perLayer; written += block.length) {
                    random.nextBytes(block);
                    int n = (int) Math.min(block.length, perLayer - written);
                    if (written == 0) {
                        ByteBuffer header = ByteBuffer.wrap(block).order(ByteOrder.LITTLE_ENDIAN);
                        header.putInt(0, 0x73717368);
                        header.putLong(40, perLayer);
                    }
                    out.write(block, 0, n);
                }
            }
            Digest squashfs = Digest.of(file);
            // The layer is named by a digest of its own here; the store records the squashfs digest beside it.
            Digest layer = Digest.of(("layer " + l).getBytes());
            store.putLayer(layer, file, squashfs);
            Files.delete(file);
            files.add(root + "/layers/" + layer.hex() + ".sqsh");
            layerDescriptors.add(new Descriptor(MediaTypes.OCI_LAYER_TAR_GZIP, layer, perLayer));
        }
        byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"true\"]}}".getBytes();
        Digest configDigest = Digest.of(config);
        store.putConfig(configDigest, config);
        files.add(root + "/config/" + configDigest.hex());
        byte[] manifestBytes = OciManifests.manifest(new Descriptor(MediaTypes.OCI_CONFIG, configDigest,
                config.length), layerDescriptors);
        Digest manifestDigest = Digest.of(manifestBytes);
        store.putManifest(manifestDigest, manifestBytes);
        store.tag(List.of("bench/hdfs:1"), manifestDigest);
        return files;
    }
}
