package dev.runcible.benchmarks;

import dev.runcible.api.ImageStore;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.Settings;
import dev.runcible.core.host.Executables;
import dev.runcible.core.image.ImageChanges;
import dev.runcible.core.image.RootfsImporter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A real JVM image, Debian bookworm with a JRE (debootstrap, built once per machine under
 * {@value #IMAGES} and never in the repository), started as {@code run --rm … java -version} through the node
 * agent, side by side with {@code podman run --rm} of the same root filesystem from podman's own store:
 * <ul>
 *   <li>its layer mounted / podman (goal at most 0.35);</li>
 *   <li>after the last container using the layer has gone, with the default {@code runcible.layer-mounts.keep}
 *       (the layer stays mounted, idle) and with 0 (unmounted, then mounted again) / layer mounted (goal 1.10);</li>
 *   <li>a cold node, the layer only in the local store (linked into the cache, or copied where it cannot be) /
 *       podman (goal 1.50).</li>
 * </ul>
 * Needs root, debootstrap and podman. Usage: {@code sudo bin/benchmark jvm [--runs 10]}
 */
public final class JvmImageBenchmark {
    static final String IMAGES = "/var/tmp/runcible-bench-images";
    static final String RECIPE = "bookworm http://deb.debian.org/debian openjdk-17-jre-headless";

    public static void main(String[] args) throws Exception {
        int runs = 10;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--runs")) {
                runs = Integer.parseInt(args[++i]);
            } else {
                throw new IllegalArgumentException("Unknown option " + args[i]);
            }
        }
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        String podman = Executables.find("podman").orElseThrow(() -> new IllegalStateException(
                "The JVM image benchmark compares with podman: apt-get install podman")).toString();
        Path home = Path.of(System.getProperty("runcible.home", ".")).toAbsolutePath().normalize();
        Path work = Files.createTempDirectory(Files.createDirectories(Path.of("/var/tmp")), "runcible-bench-jvm-");
        Path log = work.resolve("bench.log");
        Path rootfs = image(log);
        Map<String, String> settings = new LinkedHashMap<>(Map.of("local.root", work.resolve("store").toString(),
                "squashfs.cache.dir", work.resolve("cache").toString(),
                "runcible.run.dir", work.resolve("run").toString(), "runcible.allow-root", "true"));
        Path config = properties(work.resolve("runcible.properties"), settings);
        settings.put("runcible.layer-mounts.keep", "0");
        Path keepNone = properties(work.resolve("keep-none.properties"), settings);
        try (Runcible runcible = Runcible.open(Settings.of(settings, Map.of()),
                JvmImageBenchmark.class.getClassLoader());
                ImageStore store = runcible.openStore(work.resolve("store").toUri())) {
            new RootfsImporter(runcible.localizer()).importDirectory(rootfs, List.of("bench/jre:1"),
                    ImageChanges.parse(List.of()), store);
        }
        Path storedLayer = onlyLayer(work.resolve("store/layers"));
        Measure.run(List.of("sh", "-c", "tar -C '" + rootfs + "' -c . | " + podman + " import - localhost/bench-jre:1"),
                log);
        List<String> launch = List.of(home.resolve("bin/runcible").toString(), "--config", config.toString(), "run",
                "--rm", "bench/jre:1", "--", "java", "-version");
        List<String> viaPodman = List.of(podman, "--runtime", Executables.find("runc").orElseThrow().toString(),
                "run", "--rm", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
                "localhost/bench-jre:1", "java", "-version");
        List<String> unmount = List.of(home.resolve("bin/runcible").toString(), "--config", keepNone.toString(), "gc");
        List<Double> mounted = new ArrayList<>();
        List<Double> idle = new ArrayList<>();
        List<Double> remounted = new ArrayList<>();
        List<Double> coldLinked = new ArrayList<>();
        List<Double> coldCopied = new ArrayList<>();
        List<Double> podmanRuns = new ArrayList<>();
        List<Double> bare = new ArrayList<>();
        List<Double> client = new ArrayList<>();
        String runc = Executables.find("runc").orElseThrow().toString();
        Path bundle = LaunchBenchmark.bundle(runc, work.resolve("bundle"), rootfs, List.of("java", "-version"), log);
        List<String> ps = List.of(home.resolve("bin/runcible").toString(), "--config", config.toString(), "ps");
        NodeAgent agent = NodeAgent.start(home, config, work.resolve("agent/agent.sock"), log);
        try {
            Map<String, String> viaAgent = agent.environment();
            Map<String, String> noAgent = NodeAgent.none(work);
            agent.warmUp(launch, 20, log);
            Measure.run(viaPodman, log);
            for (int run = 0; run < runs; run++) {
                // One container keeps the layer mounted while another starts.
                Measure.run(List.of(home.resolve("bin/runcible").toString(), "--config", config.toString(), "run",
                        "--detach", "--name", "holder", "bench/jre:1", "--", "sleep", "600"), log);
                mounted.add(Measure.seconds(launch, viaAgent, log));
                Measure.run(List.of(home.resolve("bin/runcible").toString(), "--config", config.toString(), "rm",
                        "--force", "holder"), log);
                idle.add(Measure.seconds(launch, viaAgent, log)); // the default keep: mounted, idle
                Measure.seconds(unmount, noAgent, log);
                remounted.add(Measure.seconds(launch, viaAgent, log)); // keep 0: mounted again, not re-hashed
                podmanRuns.add(Measure.seconds(viaPodman, log));
                bare.add(Measure.seconds(List.of(runc, "--root", work.resolve("runc-bare").toString(), "run",
                        "--bundle", bundle.toString(), "bare-" + run), log));
                client.add(Measure.seconds(ps, viaAgent, log));
                Measure.seconds(unmount, noAgent, log);
                dropCached(work);
                coldLinked.add(Measure.seconds(launch, viaAgent, log));
                // Others may write the store file: it is copied instead of linked.
                Measure.seconds(unmount, noAgent, log);
                dropCached(work);
                Files.setPosixFilePermissions(storedLayer, java.nio.file.attribute.PosixFilePermissions
                        .fromString("rw-rw-r--"));
                coldCopied.add(Measure.seconds(launch, viaAgent, log));
                Files.setPosixFilePermissions(storedLayer, java.nio.file.attribute.PosixFilePermissions
                        .fromString("rw-r--r--"));
            }
            Measure.seconds(unmount, noAgent, log);
        } finally {
            agent.close();
        }
        Measure.Summary m = Measure.summarize(mounted);
        Measure.Summary p = Measure.summarize(podmanRuns);
        Measure.Summary i = Measure.summarize(idle);
        Measure.Summary r = Measure.summarize(remounted);
        Measure.Summary l = Measure.summarize(coldLinked);
        Measure.Summary c = Measure.summarize(coldCopied);
        Measure.Summary b = Measure.summarize(bare);
        Measure.Summary k = Measure.summarize(client);
        double floor = b.median() + k.median();
        String report = """
                # A real JVM image: `run --rm … java -version`

                %s, %d cores, %d interleaved runs each. Debian bookworm with openjdk-17-jre-headless: a %d MiB root
                filesystem, one %d MiB zstd squashfs layer. Runcible through the node agent (client JVM included);
                podman from its own store. The page cache is warm for both: "cold" means the layer is not in
                Runcible's cache or mounted, not that the disk is read.

                | | median (min–max) | ratio | goal |
                |---|---|---|---|
                | `podman --runtime runc run --rm` | %s | | |
                | Runcible, layer mounted (another container uses it) | %s | **%.2f** of podman | ≤ 0.35 |
                | bare `runc run` of a bundle on the same root filesystem | %s | %.2f of podman | |
                | the agent's client alone: `bin/runcible ps` through the agent | %s | | |
                | floor: bare runc + the client (medians) | %.0f ms | %.2f of podman; Runcible is %.0f ms above | |
                | … its last container gone, default keep (mount stays, idle) | %s | **%.2f** of mounted | ≤ 1.10 |
                | … its last container gone, keep 0 (mounted again, not re-hashed) | %s | %.2f of mounted | |
                | cold node, layer only in the local store, linked into the cache | %s | **%.2f** of podman | ≤ 1.50 |
                | cold node, the same layer copied (others may write the store file) | %s | %.2f of podman | |
                """.formatted(LocalDate.now(), Runtime.getRuntime().availableProcessors(), runs, megabytes(rootfs),
                Files.size(storedLayer) >> 20, p.format(), m.format(), m.median() / p.median(), b.format(),
                b.median() / p.median(), k.format(), floor * 1000, floor / p.median(), (m.median() - floor) * 1000,
                i.format(),
                i.median() / m.median(), r.format(), r.median() / m.median(), l.format(), l.median() / p.median(),
                c.format(), c.median() / p.median());
        System.out.println(report);
        Files.createDirectories(home.resolve("benchmarks/results"));
        Files.writeString(home.resolve("benchmarks/results/jvm-image.md"), report);
        Results.write(home, "jvm-image", List.of(
                new Results.Figure("JVM image, java -version with the agent, layer mounted / podman",
                        m.median() / p.median(), 0.35, true, "x"),
                new Results.Figure("JVM image, after the last container has gone / layer mounted",
                        i.median() / m.median(), 1.10, true, "x"),
                new Results.Figure("JVM image, cold node (local store) / podman", l.median() / p.median(), 1.50,
                        true, "x")));
        Measure.run(List.of(podman, "rmi", "-f", "localhost/bench-jre:1"), log);
        RegistryPullBenchmark.delete(work);
    }

    /** The Debian + JRE root filesystem, built with debootstrap the first time on this machine. */
    static Path image(Path log) throws IOException, InterruptedException {
        String hash;
        try {
            hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(RECIPE.getBytes(StandardCharsets.UTF_8))).substring(0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        Path dir = Files.createDirectories(Path.of(IMAGES, "debian-jre-" + hash));
        Path rootfs = dir.resolve("rootfs");
        if (Files.isDirectory(rootfs)) {
            return rootfs;
        }
        Path partial = dir.resolve("rootfs.tmp");
        Measure.run(List.of("rm", "-rf", partial.toString()), log);
        String[] recipe = RECIPE.split(" ");
        System.out.println("Building the JVM image with debootstrap (once per machine): " + partial);
        Measure.run(List.of("debootstrap", "--variant=minbase", "--include=" + recipe[2], recipe[0],
                partial.toString(), recipe[1]), log);
        Measure.run(List.of("sh", "-c", "rm -rf '" + partial + "'/var/cache/apt/archives/*.deb '" + partial
                + "'/var/lib/apt/lists/*"), log);
        Files.move(partial, rootfs);
        return rootfs;
    }

    /** Takes the image's layer out of Runcible's cache and its verification records, as on a node never used. */
    private static void dropCached(Path work) throws IOException {
        for (Path dir : List.of(work.resolve("cache/layers"), work.resolve("run/layers"))) {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    Files.delete(file);
                }
            }
        }
    }

    private static Path onlyLayer(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".sqsh")).findFirst().orElseThrow();
        }
    }

    static long megabytes(Path tree) throws IOException, InterruptedException {
        Process du = new ProcessBuilder("du", "-sm", tree.toString()).start();
        String out = new String(du.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        du.waitFor();
        return Long.parseLong(out.split("\\s+")[0]);
    }

    /** Writes {@code settings} as a properties file Runcible reads with {@code --config}. */
    static Path properties(Path file, Map<String, String> settings) throws IOException {
        StringBuilder text = new StringBuilder();
        settings.forEach((key, value) -> text.append(key).append('=').append(value).append('\n'));
        return Files.writeString(file, text.toString());
    }

    private JvmImageBenchmark() {
    }
}
