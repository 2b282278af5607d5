package dev.runcible.benchmarks;

import dev.runcible.api.ImageStore;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.Settings;
import dev.runcible.core.image.ImageChanges;
import dev.runcible.core.image.RootfsImporter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * A 1 GB worker image (Debian with a JRE, {@link JvmImageBenchmark#image}, plus files no one reads) started cold
 * from HDFS ({@code run --rm … java -version} through the node agent): with a full copy of its layer first, with
 * lazy layers, and with lazy layers and a prefetch list, against the same start with the layer already on the node.
 * Each at loopback speed and through the benchmark-only fetch limit at 1 Gbit/s and 100 Mbit/s
 * ({@code runcible.benchmark-only.fetch-bytes-per-second}, applied to the full copy and to lazy fetches alike). Goals:
 * lazy cold at most 2x warm at 1 Gbit/s (1.3x with a prefetch list); at 100 Mbit/s, at least 3x faster than the
 * full copy. Every start, warm or cold, follows 5 s of rest. Each lazy start is paired with a warm one just before
 * it, through a second agent with its own run directory and node cache, and is compared with the warm starts of its
 * own figure: warm and cold are measured under the same conditions (two runs measured warm alone, before and after
 * the cold ones, 84 ms apart). The lazy layers' FUSE requests come through io_uring, the node's switch for it
 * ({@code fuse.enable_uring}) turned on for the run and put back after it, unless {@code --fuse-io-uring off}. Needs
 * root and debootstrap. Usage: {@code sudo bin/benchmark lazy [--runs 5] [--pad-mb 850] [--fuse-io-uring off]}
 */
public final class LazyStartBenchmark {
    private static final String IMAGE = "bench/lazy:1";
    private static final long GIGABIT = 125_000_000L;
    private static final long HUNDRED_MEGABIT = 12_500_000L;
    private static final AtomicInteger AGENTS = new AtomicInteger();

    private record Link(String name, long bytesPerSecond) {
    }

    public static void main(String[] args) throws Exception {
        int runs = 5;
        int padMb = 850;
        boolean ioUring = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--pad-mb" -> padMb = Integer.parseInt(args[++i]);
                case "--fuse-io-uring" -> ioUring = switch (args[++i]) {
                    case "on" -> true;
                    case "off" -> false;
                    default -> throw new IllegalArgumentException("--fuse-io-uring is on or off, not " + args[i]);
                };
                default -> throw new IllegalArgumentException("Unknown option " + args[i]);
            }
        }
        Path ioUringSwitch = Path.of("/sys/module/fuse/parameters/enable_uring");
        String switchWas = Files.exists(ioUringSwitch) ? Files.readString(ioUringSwitch).strip() : null;
        String requests = !ioUring ? "through /dev/fuse (`--fuse-io-uring off`)"
                : switchWas == null ? "through /dev/fuse: this kernel has no FUSE over io_uring"
                : "through io_uring (the node's `fuse.enable_uring`, " + switchWas + " before, on for the run)";
        try {
            if (ioUring && switchWas != null) {
                Files.writeString(ioUringSwitch, "Y");
            }
            run(runs, padMb, ioUring, requests);
        } finally {
            if (switchWas != null) {
                Files.writeString(ioUringSwitch, switchWas);
            }
        }
    }

    private static void run(int runs, int padMb, boolean ioUring, String requests) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        Path home = Path.of(System.getProperty("runcible.home", ".")).toAbsolutePath().normalize();
        Path work = Files.createTempDirectory(Files.createDirectories(Path.of("/var/tmp")), "runcible-bench-lazy-");
        Path log = work.resolve("bench.log");
        Path rootfs = work.resolve("rootfs");
        Measure.run(List.of("cp", "-a", JvmImageBenchmark.image(log).toString(), rootfs.toString()), log);
        pad(rootfs.resolve("opt/padding"), (long) padMb << 20);
        Configuration conf = new Configuration();
        conf.set("dfs.namenode.safemode.extension", "0");
        conf.set("dfs.replication", "1");
        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, work.resolve("dfs").toFile()).numDataNodes(1)
                .build();
        try {
            cluster.waitActive();
            String root = "hdfs://127.0.0.1:" + cluster.getNameNodePort() + "/runc-root";
            Map<String, String> base = new LinkedHashMap<>(Map.of(
                    "runcible.image.tag-to-manifest", "hdfs", "runcible.image.manifest-to-resources", "hdfs",
                    "hdfs.root", root, "hadoop.conf.dfs.replication", "1",
                    "runcible.run.dir", work.resolve("run").toString(),
                    "squashfs.cache.dir", work.resolve("cache").toString(),
                    "runcible.allow-root", "true", "runcible.layer-mounts.keep", "0",
                    "squashfs.lazy.io-uring", Boolean.toString(ioUring)));
            System.out.println("Importing a " + JvmImageBenchmark.megabytes(rootfs) + " MiB image into " + root);
            try (Runcible runcible = Runcible.open(Settings.of(base, Map.of()),
                    LazyStartBenchmark.class.getClassLoader());
                    ImageStore store = runcible.openStore(java.net.URI.create(root))) {
                new RootfsImporter(runcible.localizer()).importDirectory(rootfs, List.of(IMAGE),
                        ImageChanges.parse(List.of()), store);
            }
            long layerBytes = cluster.getFileSystem().getContentSummary(
                    new org.apache.hadoop.fs.Path(root + "/layers")).getLength();
            List<Link> links = List.of(new Link("loopback", 0), new Link("1 Gbit/s", GIGABIT),
                    new Link("100 Mbit/s", HUNDRED_MEGABIT));
            Map<String, Measure.Summary> results = new LinkedHashMap<>();
            Bench bench = new Bench(home, work, base, log);
            List<Double> warm = new ArrayList<>();
            try (Warm paired = bench.warm()) {
                for (Link link : links) {
                    // A full copy over the slowest link takes a minute and a half: one run (after the agent's
                    // first) is enough to see it.
                    results.put("full " + link.name(), bench.cold(false, link.bytesPerSecond(),
                            link.bytesPerSecond() == HUNDRED_MEGABIT ? 1 : runs, null));
                    results.put("lazy " + link.name(), bench.cold(true, link.bytesPerSecond(), runs, paired));
                    results.put("warm lazy " + link.name(), paired.take());
                }
                bench.publishPrefetch(root);
                for (Link link : links) {
                    results.put("prefetch " + link.name(), bench.cold(true, link.bytesPerSecond(), runs, paired));
                    results.put("warm prefetch " + link.name(), paired.take());
                }
                warm.addAll(paired.all());
            }
            results.put("warm", Measure.summarize(warm));
            report(home, runs, layerBytes, links, results, warm.size(), requests);
        } finally {
            cluster.shutdown();
            if (Files.exists(log)) {
                Files.copy(log, Path.of("/var/tmp/runcible-bench-lazy.log"),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            RegistryPullBenchmark.delete(work);
        }
    }

    /** Starts of the image through a node agent of one configuration at a time. */
    private record Bench(Path home, Path work, Map<String, String> base, Path log) {
        private Path config(boolean lazy, long bytesPerSecond) throws IOException {
            Map<String, String> settings = new LinkedHashMap<>(base);
            settings.put("squashfs.lazy", Boolean.toString(lazy));
            if (bytesPerSecond > 0) {
                settings.put("runcible.benchmark-only.fetch-bytes-per-second", Long.toString(bytesPerSecond));
            }
            return JvmImageBenchmark.properties(work.resolve("lazy-" + lazy + "-" + bytesPerSecond + ".properties"),
                    settings);
        }

        private List<String> launch(Path config) {
            return List.of(home.resolve("bin/runcible").toString(), "--config", config.toString(), "run", "--rm",
                    IMAGE, "--", "java", "-version");
        }

        private NodeAgent agent(Path config) throws IOException, InterruptedException {
            // A socket of its own: the one before may still be on its way out. A short name: a Unix socket's
            // path has at most 107 bytes, and the work directory's name is long already.
            NodeAgent agent = NodeAgent.start(home, config, work.resolve("agent-" + AGENTS.incrementAndGet()
                    + ".sock"), log);
            agent.warmUp(List.of(home.resolve("bin/runcible").toString(), "--config", config.toString(), "ps"), 20,
                    log);
            return agent;
        }

        /**
         * An agent of its own run directory and node cache, whose first start put the layer in its cache; keep is 0,
         * so every start mounts it again.
         */
        Warm warm() throws IOException, InterruptedException {
            Map<String, String> settings = new LinkedHashMap<>(base);
            settings.put("runcible.run.dir", work.resolve("run-warm").toString());
            settings.put("squashfs.cache.dir", work.resolve("cache-warm").toString());
            Path config = JvmImageBenchmark.properties(work.resolve("warm.properties"), settings);
            NodeAgent agent = agent(config);
            Measure.seconds(launch(config), agent.environment(), log);
            return new Warm(this, config, agent);
        }

        /**
         * Each run on a cache emptied first, as on a node that never had the image; with {@code paired}, each after
         * a warm start.
         */
        Measure.Summary cold(boolean lazy, long bytesPerSecond, int runs, Warm paired)
                throws IOException, InterruptedException {
            Path config = config(lazy, bytesPerSecond);
            List<Double> samples = new ArrayList<>();
            try (NodeAgent agent = agent(config)) {
                // An agent that has been up a while: it has started the image once, and a spare server (lazy
                // layers) has had time to start between launches.
                if (lazy) {
                    RegistryPullBenchmark.delete(work.resolve("cache"));
                    Measure.seconds(launch(config), agent.environment(), log);
                }
                for (int run = 0; run < runs; run++) {
                    if (paired != null) {
                        paired.start();
                    }
                    Thread.sleep(5000);
                    RegistryPullBenchmark.delete(work.resolve("cache"));
                    samples.add(Measure.seconds(launch(config), agent.environment(), log));
                }
            }
            return Measure.summarize(samples);
        }

        /** Publishes what this node's first lazy start read as the layer's prefetch list. */
        void publishPrefetch(String root) throws IOException, InterruptedException {
            Measure.run(List.of(home.resolve("bin/runcible").toString(), "--config", config(true, 0).toString(),
                    "store", "prefetch", "--store", root), log);
        }
    }

    /** Warm starts through their own agent, each after 5 s of rest, gathered figure by figure. */
    private static final class Warm implements AutoCloseable {
        private final Bench bench;
        private final Path config;
        private final NodeAgent agent;
        private final List<Double> current = new ArrayList<>();
        private final List<Double> all = new ArrayList<>();

        Warm(Bench bench, Path config, NodeAgent agent) {
            this.bench = bench;
            this.config = config;
            this.agent = agent;
        }

        void start() throws IOException, InterruptedException {
            Thread.sleep(5000);
            double seconds = Measure.seconds(bench.launch(config), agent.environment(), bench.log());
            current.add(seconds);
            all.add(seconds);
        }

        /** The warm starts since the last call. */
        Measure.Summary take() {
            Measure.Summary summary = Measure.summarize(current);
            current.clear();
            return summary;
        }

        List<Double> all() {
            return all;
        }

        @Override
        public void close() throws InterruptedException {
            agent.close();
        }
    }

    /** Files of random bytes, which squashfs cannot compress and no worker reads. */
    private static void pad(Path dir, long bytes) throws IOException {
        Files.createDirectories(dir);
        SplittableRandom random = new SplittableRandom(11);
        byte[] block = new byte[1 << 20];
        long written = 0;
        for (int file = 0; written < bytes; file++) {
            try (OutputStream out = Files.newOutputStream(dir.resolve("unread-" + file))) {
                for (int mib = 0; mib < 64 && written < bytes; mib++) {
                    for (int i = 0; i < block.length; i += 8) {
                        long value = random.nextLong();
                        for (int b = 0; b < 8; b++) {
                            block[i + b] = (byte) (value >>> (8 * b));
                        }
                    }
                    out.write(block);
                    written += block.length;
                }
            }
        }
    }

    private static void report(Path home, int runs, long layerBytes, List<Link> links,
            Map<String, Measure.Summary> results, int warmRuns, String requests) throws IOException {
        StringBuilder table = new StringBuilder();
        for (Link link : links) {
            Measure.Summary full = results.get("full " + link.name());
            Measure.Summary lazy = results.get("lazy " + link.name());
            Measure.Summary prefetch = results.get("prefetch " + link.name());
            Measure.Summary lazyWarm = results.get("warm lazy " + link.name());
            Measure.Summary prefetchWarm = results.get("warm prefetch " + link.name());
            table.append(String.format(Locale.ROOT, "| %s | %s | %s; warm %s (**%.2f** of warm) | %s; warm %s "
                    + "(**%.2f** of warm) | %.1fx |%n", link.name(), full.format(), lazy.format(), lazyWarm.format(),
                    lazy.median() / lazyWarm.median(), prefetch.format(), prefetchWarm.format(),
                    prefetch.median() / prefetchWarm.median(), full.median() / lazy.median()));
        }
        String report = """
                # Lazy layers: a 1 GB worker image started cold from HDFS

                %s, %d cores, %d runs each (one for the full copy at 100 Mbit/s). `run --rm … java -version` through
                the node agent (client JVM included), the layer (%d MiB: Debian, a JRE and files no one reads) in a
                MiniDFSCluster on 127.0.0.1. "Cold": the node cache is emptied before each run. Every start follows
                5 s of rest. The link speeds are the benchmark-only fetch limit, on the full copy and on lazy fetches
                alike. Warm: the layer in the node cache of a second agent (its own run directory and cache), one
                warm start before each lazy one, each lazy figure compared with its own warm starts; all %d: %s.
                The lazy layers' FUSE requests came %s.

                | link | full copy, then start | lazy | lazy with a prefetch list | full / lazy |
                |---|---|---|---|---|
                %s
                Goals: lazy at 1 Gbit/s at most 2x warm (1.3x with a prefetch list); at 100 Mbit/s the full copy at
                least 3x the lazy start.
                """.formatted(LocalDate.now(), Runtime.getRuntime().availableProcessors(), runs, layerBytes >> 20,
                warmRuns, results.get("warm").format(), requests, table);
        System.out.println(report);
        Files.createDirectories(home.resolve("benchmarks/results"));
        Files.writeString(home.resolve("benchmarks/results/lazy-start.md"), report);
        Results.write(home, "lazy-start", List.of(
                new Results.Figure("Lazy layers, 1 GB image cold from HDFS at 1 Gbit/s / warm",
                        results.get("lazy 1 Gbit/s").median() / results.get("warm lazy 1 Gbit/s").median(), 2.0,
                        true, "x"),
                new Results.Figure("Lazy layers with a prefetch list, at 1 Gbit/s / warm",
                        results.get("prefetch 1 Gbit/s").median()
                                / results.get("warm prefetch 1 Gbit/s").median(), 1.3, true, "x"),
                new Results.Figure("Full copy / lazy start at 100 Mbit/s",
                        results.get("full 100 Mbit/s").median() / results.get("lazy 100 Mbit/s").median(), 3.0,
                        false, "x")));
    }

    private LazyStartBenchmark() {
    }
}
