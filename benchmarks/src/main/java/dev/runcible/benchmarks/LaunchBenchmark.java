package dev.runcible.benchmarks;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.runcible.api.ImageReference;
import dev.runcible.api.ImageStore;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.Settings;
import dev.runcible.core.container.ContainerManager;
import dev.runcible.core.container.RunRequest;
import dev.runcible.core.host.Executables;
import dev.runcible.core.image.ImageChanges;
import dev.runcible.core.image.Json;
import dev.runcible.core.image.RootfsImporter;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Warm launch of {@code /bin/true}, side by side in one run, runs interleaved:
 * <ul>
 *   <li>library mode (one JVM, layer cached and mounted) against bare {@code runc run} of a prepared bundle
 *       (goal: ratio at most 1.25);</li>
 *   <li>the CLI, JVM start included, against {@code podman --runtime runc run --rm} of the same root filesystem
 *       (goal: at most 0.30 through the node agent, 0.80 without), with the CLI's peak resident memory and the
 *       classes it loads.</li>
 * </ul>
 * Needs root. Usage: {@code sudo bin/benchmark launch [--runs 30]}
 */
public final class LaunchBenchmark {
    /** Launches through the agent before measuring: a resident agent has compiled its hot paths by then. */
    private static final int AGENT_WARMUP = 200;

    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        int runs = 30;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--runs")) {
                runs = Integer.parseInt(args[++i]);
            } else {
                throw new IllegalArgumentException("Unknown option " + args[i]);
            }
        }
        Path home = Path.of(System.getProperty("runcible.home", ".")).toAbsolutePath().normalize();
        Path work = Files.createTempDirectory("runcible-bench-launch-");
        Path log = work.resolve("bench.log");
        Path rootfs = Files.createDirectories(work.resolve("rootfs"));
        Files.createDirectories(rootfs.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), rootfs.resolve("bin/busybox"));
        Files.createSymbolicLink(rootfs.resolve("bin/true"), Path.of("busybox"));
        Path config = Files.writeString(work.resolve("runcible.properties"), String.join("\n",
                "local.root=" + work.resolve("store"), "squashfs.cache.dir=" + work.resolve("cache"),
                "runcible.run.dir=" + work.resolve("run"), "runcible.layer-mounts.keep=4") + "\n");
        Map<String, String> settings = new java.util.HashMap<>();
        for (String line : Files.readAllLines(config)) {
            settings.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
        }
        String runc = Executables.find("runc").orElseThrow().toString();
        Path bundle = prepareBundle(runc, work, rootfs, log);
        List<Double> library = new ArrayList<>();
        List<Double> bare = new ArrayList<>();
        List<Double> bareOwnConfig = new ArrayList<>();
        List<Double> mountPair = new ArrayList<>();
        List<Double> shim = new ArrayList<>();
        Path overlay = Files.createDirectories(work.resolve("overlay"));
        for (String dir : List.of("lower", "upper", "work", "merged")) {
            Files.createDirectories(overlay.resolve(dir));
        }
        List<Double> cli = new ArrayList<>();
        List<Double> podman = new ArrayList<>();
        List<Double> viaAgentSeconds = new ArrayList<>();
        List<Double> clientAlone = new ArrayList<>();
        List<Double> emptyJvm = new ArrayList<>();
        long cliClasses;
        long clientClasses;
        long cliPeakKb = 0;
        long clientPeakKb = 0;
        long agentPeakKb = 0;
        NodeAgent agent = null;
        Optional<String> podmanBinary = Executables.find("podman").map(Path::toString);
        try (Runcible runcible = Runcible.open(Settings.of(settings, Map.of()),
                LaunchBenchmark.class.getClassLoader())) {
            try (ImageStore store = runcible.openStore(work.resolve("store").toUri())) {
                new RootfsImporter(runcible.localizer()).importDirectory(rootfs, List.of("bench/true:1"),
                        ImageChanges.parse(List.of("USER 1000")), store);
            }
            if (podmanBinary.isPresent()) {
                Measure.run(List.of("sh", "-c", "tar -C '" + rootfs + "' -c . | " + podmanBinary.get()
                        + " import - localhost/bench-true:1"), log);
            }
            ContainerManager containers = runcible.containers();
            ImageReference image = ImageReference.parse("bench/true:1");
            List<String> cliRun = List.of(home.resolve("bin/runcible").toString(), "--config", config.toString(),
                    "run", "--rm", "bench/true:1", "--", "/bin/true");
            Map<String, String> noAgent = NodeAgent.none(work);
            agent = NodeAgent.start(home, work.resolve("agent").resolve("agent.sock"), log);
            Map<String, String> viaAgent = agent.environment();
            for (int i = 0; i < 3; i++) { // warm: layer cached and mounted, JIT and page cache warm
                launch(containers, image);
                Measure.seconds(cliRun, noAgent, log);
            }
            agent.warmUp(cliRun, AGENT_WARMUP, log); // a resident agent is warm after its first launches
            Path ownConfig = ownConfigBundle(containers, image, List.of("/bin/true"), bundle, work);
            cliClasses = classesLoaded(cliRun, noAgent, work, log);
            clientClasses = classesLoaded(cliRun, viaAgent, work, log);
            List<String> ps = List.of(home.resolve("bin/runcible").toString(), "--config", config.toString(), "ps");
            List<String> java = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:+UseSerialGC", "-Xshare:auto", "-Xmx128m", "-version");
            for (int run = 0; run < runs; run++) {
                library.add(launch(containers, image));
                bare.add(Measure.seconds(List.of(runc, "--root", work.resolve("runc-bare").toString(), "run",
                        "--bundle", bundle.toString(), "bare-" + run), log));
                bareOwnConfig.add(Measure.seconds(List.of(runc, "--root", work.resolve("runc-bare").toString(), "run",
                        "--bundle", ownConfig.toString(), "own-" + run), log));
                // The processes a launch starts besides runc, started the same way: the root filesystem's
                // overlay mount and unmount, and the shim (setsid and sh) that keeps the exit code.
                mountPair.add(Measure.seconds(List.of("mount", "-t", "overlay", "overlay", "-o", "lowerdir="
                        + overlay.resolve("lower") + ",upperdir=" + overlay.resolve("upper") + ",workdir="
                        + overlay.resolve("work"), overlay.resolve("merged").toString()), log)
                        + Measure.seconds(List.of("umount", overlay.resolve("merged").toString()), log));
                shim.add(Measure.seconds(List.of("setsid", "bash", "-c", "true"), log));
                List<String> timed = new ArrayList<>(List.of("/usr/bin/time", "-f", "%M", "-o",
                        work.resolve("rss").toString()));
                timed.addAll(cliRun);
                cli.add(Measure.seconds(timed, noAgent, log));
                cliPeakKb = Math.max(cliPeakKb, Long.parseLong(Files.readString(work.resolve("rss")).strip()));
                viaAgentSeconds.add(Measure.seconds(timed, viaAgent, log));
                clientAlone.add(Measure.seconds(ps, viaAgent, log));
                emptyJvm.add(Measure.seconds(java, log));
                clientPeakKb = Math.max(clientPeakKb, Long.parseLong(Files.readString(work.resolve("rss")).strip()));
                if (podmanBinary.isPresent()) {
                    podman.add(Measure.seconds(List.of(podmanBinary.get(), "--runtime", runc, "run", "--rm",
                            "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "localhost/bench-true:1",
                            "/bin/true"), log));
                }
            }
            // Unmount every layer (the benchmark kept four mounted, as a warm node does).
            runcible.containers().collect(0);
            agentPeakKb = agent.peakKb();
        } finally {
            if (agent != null) {
                agent.close();
            }
        }
        Measure.Summary lib = Measure.summarize(library);
        Measure.Summary runcSummary = Measure.summarize(bare);
        Measure.Summary ownSummary = Measure.summarize(bareOwnConfig);
        double floor = ownSummary.median() + Measure.summarize(shim).median();
        Measure.Summary cliSummary = Measure.summarize(cli);
        Measure.Summary agentSummary = Measure.summarize(viaAgentSeconds);
        Measure.Summary client = Measure.summarize(clientAlone);
        Measure.Summary jvm = Measure.summarize(emptyJvm);
        Optional<Measure.Summary> podmanSummary = podman.isEmpty() ? Optional.empty()
                : Optional.of(Measure.summarize(podman));
        String podmanRow = podmanSummary.map(p -> "| `podman --runtime runc run --rm` | %s | |".formatted(p.format()))
                .orElse("| `podman --runtime runc run --rm` | not installed | |");
        String agentRatio = podmanSummary.map(p -> String.format(Locale.ROOT, "**%.2f**",
                agentSummary.median() / p.median())).orElse("n/a (no podman)");
        String cliRatio = podmanSummary.map(p -> String.format(Locale.ROOT, "%.2f", cliSummary.median() / p.median()))
                .orElse("n/a (no podman)");
        String report = """
                # Warm launch of /bin/true

                %s, %d cores, %d interleaved runs each after 3 warm-up runs (%d for the agent).

                | | median (min–max) | |
                |---|---|---|
                | library mode: `ContainerManager.run` + wait + `rm` (layer cached and mounted) | %s | |
                | bare `runc run` of a prepared bundle | %s | |
                | **ratio, library mode / runc** (goal ≤ 1.25) | **%.2f** | |
                | bare `runc run`, Runcible's runtime config (seccomp filter, masks, limits) | %s | %.2f x the default |
                | the one process a launch starts besides runc: the shim, `setsid bash -c` | %s | |
                | floor: runc with that config + the shim | %.0f ms | library: %.2f x the floor, %.0f ms above |
                | for comparison: the `mount` + `umount` programs a launch no longer runs for its overlay | %s | |
                | CLI with the node agent: `bin/runcible run --rm`, client JVM start included | %s | client peak RSS %d MiB; agent %d MiB |
                | … the client's share: `bin/runcible ps` through the agent | %s | %d classes loaded for a `run` |
                | floor of the agent route: the client + bare runc + the shim | %.0f ms | the route is %.0f ms above |
                %s
                | **ratio, CLI with the agent / podman** (goal ≤ 0.30) | %s | |
                | CLI without an agent: one launcher JVM per command | %s | peak RSS %d MiB; %d classes loaded |
                | … an empty JVM with the CLI's options: `java -version` | %s | |
                | **ratio, CLI without an agent / podman** (goal ≤ 0.80) | %s | |
                """.formatted(LocalDate.now(), Runtime.getRuntime().availableProcessors(), runs, AGENT_WARMUP,
                lib.format(), runcSummary.format(), lib.median() / runcSummary.median(), ownSummary.format(),
                ownSummary.median() / runcSummary.median(), Measure.summarize(shim).format(), floor * 1000,
                lib.median() / floor, (lib.median() - floor) * 1000, Measure.summarize(mountPair).format(),
                agentSummary.format(), clientPeakKb / 1024, agentPeakKb / 1024, client.format(), clientClasses,
                (client.median() + floor) * 1000, (agentSummary.median() - client.median() - floor) * 1000,
                podmanRow, agentRatio, cliSummary.format(), cliPeakKb / 1024, cliClasses, jvm.format(), cliRatio);
        System.out.println(report);
        Files.createDirectories(home.resolve("benchmarks/results"));
        Files.writeString(home.resolve("benchmarks/results/launch.md"), report);
        List<Results.Figure> figures = new ArrayList<>(List.of(
                new Results.Figure("warm launch, library / bare runc", lib.median() / runcSummary.median(), 1.25,
                        true, "x"),
                new Results.Figure("CLI peak RSS for run, no agent", cliPeakKb / 1024.0, 128, true, "MiB"),
                new Results.Figure("CLI client peak RSS for run, with the agent", clientPeakKb / 1024.0, 64, true,
                        "MiB")));
        if (podmanSummary.isPresent()) {
            figures.add(new Results.Figure("warm launch, CLI with the agent / podman", agentSummary.median()
                    / podmanSummary.get().median(), 0.30, true, "x"));
            figures.add(new Results.Figure("warm launch, CLI without an agent / podman", cliSummary.median()
                    / podmanSummary.get().median(), 0.80, true, "x"));
        }
        Results.write(home, "launch", figures);
        if (podmanBinary.isPresent()) {
            Measure.run(List.of(podmanBinary.get(), "rmi", "-f", "localhost/bench-true:1"), log);
        }
        RegistryPullBenchmark.delete(work);
    }

    /**
     * A bundle running {@code command} on the bare bundle's root filesystem with the runtime config Runcible writes for
     * the image (taken from a container it launched), less its cgroup path: what runc alone costs for that config.
     */
    static Path ownConfigBundle(ContainerManager containers, ImageReference image, List<String> command, Path bare,
            Path work) throws Exception {
        ContainerManager.Started started = containers.run(RunRequest.of(image, command));
        started.shim().waitFor(30, TimeUnit.SECONDS);
        ObjectNode config = (ObjectNode) Json.MAPPER.readTree(started.files().config().toFile());
        containers.remove(started.record().id(), false);
        ((ObjectNode) config.get("root")).put("path", bare.resolve("rootfs").toString());
        ((ObjectNode) config.get("linux")).remove("cgroupsPath");
        Path bundle = Files.createDirectories(work.resolve("own-config-bundle"));
        Json.MAPPER.writeValue(bundle.resolve("config.json").toFile(), config);
        return bundle;
    }

    /** The classes one command loads, from the JVM's class loading log. */
    private static long classesLoaded(List<String> command, Map<String, String> environment, Path work, Path log)
            throws Exception {
        Path loaded = work.resolve("classes.log");
        Map<String, String> withLog = new java.util.HashMap<>(environment);
        withLog.put("RUNCIBLE_JAVA_OPTS", "-Xlog:class+load:file=" + loaded);
        Measure.seconds(command, withLog, log);
        try (java.util.stream.Stream<String> lines = Files.lines(loaded)) {
            return lines.count();
        }
    }

    /** Launch to exit to removal, as a scheduler sees one short task. */
    private static double launch(ContainerManager containers, ImageReference image) throws Exception {
        long start = System.nanoTime();
        ContainerManager.Started started = containers.run(RunRequest.of(image, List.of("/bin/true")));
        started.shim().waitFor(30, TimeUnit.SECONDS);
        containers.remove(started.record().id(), false);
        return (System.nanoTime() - start) / 1e9;
    }

    /** A runc bundle of the same root filesystem, from runc's own default spec, running /bin/true. */
    static Path prepareBundle(String runc, Path work, Path rootfs, Path log) throws Exception {
        Path bundle = Files.createDirectories(work.resolve("bundle"));
        Measure.run(List.of("cp", "-a", rootfs.toString(), bundle.resolve("rootfs").toString()), log);
        return bundle(runc, bundle, Path.of("rootfs"), List.of("/bin/true"), log);
    }

    /** A bundle from runc's own default spec (its root read-only) running {@code args} in {@code rootfs}. */
    static Path bundle(String runc, Path bundle, Path rootfs, List<String> args, Path log) throws Exception {
        Files.createDirectories(bundle);
        Process spec = new ProcessBuilder(runc, "spec").directory(bundle.toFile())
                .redirectOutput(ProcessBuilder.Redirect.appendTo(new File(log.toString()))).start();
        spec.waitFor();
        ObjectNode config = (ObjectNode) Json.MAPPER.readTree(bundle.resolve("config.json").toFile());
        ObjectNode process = (ObjectNode) config.get("process");
        process.put("terminal", false);
        com.fasterxml.jackson.databind.node.ArrayNode argv = process.putArray("args");
        args.forEach(argv::add);
        ((ObjectNode) config.get("root")).put("path", rootfs.toString());
        Json.MAPPER.writeValue(bundle.resolve("config.json").toFile(), config);
        return bundle;
    }
}
