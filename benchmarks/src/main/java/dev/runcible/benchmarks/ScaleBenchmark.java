package dev.runcible.benchmarks;

import dev.runcible.api.Descriptor;
import dev.runcible.api.Digest;
import dev.runcible.api.ImageReference;
import dev.runcible.api.ImageStore;
import dev.runcible.api.MediaTypes;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.Settings;
import dev.runcible.core.container.ContainerManager;
import dev.runcible.core.container.RunRequest;
import dev.runcible.core.host.Executables;
import dev.runcible.core.host.MountTable;
import dev.runcible.core.image.OciManifests;
import dev.runcible.core.plugin.TransferListener;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Launches at scale, with a 5-layer image in a local store: 16 concurrent cold launches against one cold launch
 * (goal: at most 1.5 times as long, each blob fetched once), and 200 containers of the image at once (goal: 5 loop
 * mounts). Needs root. Usage: {@code sudo bin/benchmark scale [--containers 200] [--concurrent 16]}
 */
public final class ScaleBenchmark {
    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        int containersWanted = 200;
        int concurrent = 16;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--containers" -> containersWanted = Integer.parseInt(args[++i]);
                case "--concurrent" -> concurrent = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("Unknown option " + args[i]);
            }
        }
        Path home = Path.of(System.getProperty("runcible.home", ".")).toAbsolutePath().normalize();
        Path work = Files.createTempDirectory("runcible-bench-scale-");
        Path log = work.resolve("bench.log");
        ImageReference image = ImageReference.parse("bench/five:1");
        writeFiveLayerImage(work, log);

        coldLaunches(work, image, 1, "warm-up"); // class loading and JIT, so that "one" is not charged with them
        // The reference: the same launches with bare runc, on a copy of the image's first layer. On a node with few
        // cores, runc itself does not scale to many containers at once; that part of the ratio is runc's, not the
        // launcher's.
        String runc = Executables.find("runc").orElseThrow().toString();
        Path bareRoot = Files.createDirectories(work.resolve("bare-rootfs").resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), bareRoot.resolve("busybox"));
        Files.createSymbolicLink(bareRoot.resolve("true"), Path.of("busybox"));
        Path plain = LaunchBenchmark.prepareBundle(runc, work, bareRoot.getParent(), log);
        // runc with the runtime config Runcible writes for the image (its seccomp filter, masks and limits), each
        // under the shim's setsid and bash: the processes a launch cannot do without.
        Path bundle;
        try (Runcible runcible = open(work, "own-config")) {
            bundle = LaunchBenchmark.ownConfigBundle(runcible.containers(), image, List.of("true"), plain, work);
        }
        List<Double> ones = new ArrayList<>();
        List<Double> manys = new ArrayList<>();
        List<Double> bareOnes = new ArrayList<>();
        List<Double> bareManys = new ArrayList<>();
        Cold many = null;
        for (int round = 0; round < ROUNDS; round++) {
            ones.add(coldLaunches(work, image, 1, "one-" + round).seconds());
            many = coldLaunches(work, image, concurrent, "many-" + round);
            manys.add(many.seconds());
            bareOnes.add(bareRuns(runc, bundle, work, 1, "one-" + round, log));
            bareManys.add(bareRuns(runc, bundle, work, concurrent, "many-" + round, log));
        }
        double one = Measure.summarize(ones).median();
        double manySeconds = Measure.summarize(manys).median();
        double bareOne = Measure.summarize(bareOnes).median();
        double bareMany = Measure.summarize(bareManys).median();
        // What the concurrent launches cannot beat: one cold launch, plus what runc alone adds for the others.
        double floor = one + (bareMany - bareOne);

        long loopMounts;
        double startAll;
        try (Runcible runcible = open(work, "scale")) {
            ContainerManager containers = runcible.containers();
            List<String> ids = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < containersWanted; i++) {
                ids.add(containers.run(RunRequest.of(image, List.of("sleep", "600"))).record().id());
            }
            startAll = (System.nanoTime() - start) / 1e9;
            loopMounts = MountTable.under(work.resolve("run-scale")).stream()
                    .filter(m -> m.fsType().equals("squashfs")).count();
            for (String id : ids) {
                containers.remove(id, true);
            }
        }
        String report = """
                # Launches at scale

                %s, %d cores. A 5-layer image in a local store; cold means an empty node cache and nothing mounted.

                | figure | result | goal |
                |---|---|---|
                | one cold launch (`run`, exit, `rm`), median of %d | %.2f s | |
                | %d concurrent cold launches, all done, median of %d | %.2f s | |
                | **ratio** | **%.2f** | ≤ 1.5 |
                | bare `runc run` (Runcible's config, under the shim): one; %d at once | %.0f ms; %.0f ms (%.1fx) | |
                | floor: one cold launch + what runc adds for %d at once | %.2f s | |
                | **ratio, the %d launches / the floor** | **%.2f** | ≤ 1.20 |
                | blob fetches for the %d launches (config + 5 layers) | %d, most for one blob: %d | each blob once |
                | %d containers of the image running at once | started in %.1f s | |
                | **squashfs loop mounts for them** | **%d** | 5 |
                """.formatted(LocalDate.now(), Runtime.getRuntime().availableProcessors(), ROUNDS, one, concurrent,
                ROUNDS, manySeconds, manySeconds / one, concurrent, bareOne * 1000, bareMany * 1000,
                bareMany / bareOne, concurrent, floor, concurrent, manySeconds / floor, concurrent, many.fetches(),
                many.maxPerBlob(),
                containersWanted, startAll, loopMounts);
        System.out.println(report);
        Files.createDirectories(home.resolve("benchmarks/results"));
        Files.writeString(home.resolve("benchmarks/results/scale.md"), report);
        Results.write(home, "scale", List.of(
                new Results.Figure(concurrent + " concurrent cold launches / one", manySeconds / one, 1.5, true,
                        "x"),
                new Results.Figure(concurrent + " concurrent cold launches / (one + what runc adds for "
                        + concurrent + ")", manySeconds / floor, 1.20, true, "x"),
                new Results.Figure("fetches of the busiest blob in " + concurrent + " launches", many.maxPerBlob(),
                        1, true, ""),
                new Results.Figure("loop mounts for " + containersWanted + " containers of a 5-layer image",
                        loopMounts, 5, true, "")));
        RegistryPullBenchmark.delete(work);
    }

    private static final int ROUNDS = 3;

    private record Cold(double seconds, int fetches, int maxPerBlob) {
    }

    /** {@code count} bare {@code runc run}s of the bundle at once; seconds until all are done. */
    private static double bareRuns(String runc, Path bundle, Path work, int count, String name, Path log)
            throws Exception {
        List<Process> processes = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            processes.add(new ProcessBuilder("setsid", "bash", "-c", "\"$@\"", "shim", runc, "--root",
                    work.resolve("runc-bare").toString(), "run", "--bundle", bundle.toString(),
                    "bare-" + name + "-" + i)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start());
        }
        for (Process process : processes) {
            if (process.waitFor() != 0) {
                throw new IllegalStateException("bare runc failed; see " + log);
            }
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private static Runcible open(Path work, String name) throws Exception {
        Map<String, String> settings = Map.of("local.root", work.resolve("store").toString(),
                "squashfs.cache.dir", work.resolve("cache-" + name).toString(),
                "runcible.run.dir", work.resolve("run-" + name).toString(),
                "runcible.pids.default", "64", "runcible.layer-mounts.keep", "0"); // every round starts cold
        return Runcible.open(Settings.of(settings, Map.of()), ScaleBenchmark.class.getClassLoader());
    }

    /** Launches {@code count} containers at once with a cold cache; returns the wall time and fetch counts. */
    private static Cold coldLaunches(Path work, ImageReference image, int count, String name) throws Exception {
        Map<URI, AtomicInteger> fetches = new ConcurrentHashMap<>();
        try (Runcible runcible = open(work, name)) {
            runcible.plugins().observeTransfers(new TransferListener() {
                @Override
                public void started(URI location) {
                    fetches.computeIfAbsent(location, l -> new AtomicInteger()).incrementAndGet();
                }
            });
            ContainerManager containers = runcible.containers();
            ExecutorService pool = Executors.newFixedThreadPool(count);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                futures.add(pool.submit(() -> {
                    go.await();
                    ContainerManager.Started started = containers.run(RunRequest.of(image, List.of("true")));
                    started.shim().waitFor(60, TimeUnit.SECONDS);
                    containers.remove(started.record().id(), false);
                    return null;
                }));
            }
            long start = System.nanoTime();
            go.countDown();
            for (Future<?> future : futures) {
                future.get();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            pool.shutdown();
            int total = fetches.values().stream().mapToInt(AtomicInteger::get).sum();
            int max = fetches.values().stream().mapToInt(AtomicInteger::get).max().orElse(0);
            return new Cold(seconds, total, max);
        }
    }

    /** Five squashfs layers (busybox, then four of about 20 MB each), stored as a Storm-layout image. */
    private static void writeFiveLayerImage(Path work, Path log) throws Exception {
        List<Descriptor> layers = new ArrayList<>();
        try (Runcible runcible = open(work, "write"); ImageStore store = runcible.openStore(work.resolve("store")
                .toUri())) {
            java.util.Random random = new java.util.Random(11);
            for (int l = 0; l < 5; l++) {
                Path dir = Files.createDirectories(work.resolve("layer-" + l));
                if (l == 0) {
                    Files.createDirectories(dir.resolve("bin"));
                    Files.copy(Path.of("/bin/busybox"), dir.resolve("bin/busybox"));
                    for (String applet : List.of("true", "sleep", "sh")) {
                        Files.createSymbolicLink(dir.resolve("bin").resolve(applet), Path.of("busybox"));
                    }
                } else {
                    byte[] data = new byte[20 << 20];
                    random.nextBytes(data);
                    Files.write(dir.resolve("data-" + l), data);
                }
                Path squashfs = work.resolve("layer-" + l + ".sqsh");
                Measure.run(List.of("mksquashfs", dir.toString(), squashfs.toString(), "-comp", "zstd",
                        "-Xcompression-level", "3", "-quiet", "-no-progress", "-all-root"), log);
                Digest digest = Digest.of(squashfs);
                store.putLayer(digest, squashfs, digest);
                layers.add(new Descriptor(MediaTypes.OCI_LAYER_TAR, digest, Files.size(squashfs)));
                RegistryPullBenchmark.delete(dir);
                Files.delete(squashfs);
            }
            byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"User\":\"1000\","
                    + "\"Cmd\":[\"true\"]}}").getBytes();
            Digest configDigest = Digest.of(config);
            store.putConfig(configDigest, config);
            byte[] manifest = OciManifests.manifest(new Descriptor(MediaTypes.OCI_CONFIG, configDigest, config.length),
                    layers);
            Digest manifestDigest = Digest.of(manifest);
            store.putManifest(manifestDigest, manifest);
            store.tag(List.of("bench/five:1"), manifestDigest);
        }
    }

}
