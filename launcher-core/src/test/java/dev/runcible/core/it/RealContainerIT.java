package dev.runcible.core.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.api.ImageReference;
import dev.runcible.core.Runcible;
import dev.runcible.core.container.ContainerManager;
import dev.runcible.core.container.ContainerState;
import dev.runcible.core.container.RunRequest;
import dev.runcible.core.host.Commands;
import dev.runcible.core.host.MountTable;
import dev.runcible.core.runtime.BindMount;
import dev.runcible.core.runtime.Limits;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Real runc containers from a real squashfs store, on this machine. */
class RealContainerIT {
    private static RealNode node;
    private static Path config;

    @BeforeAll
    static void setUp() throws Exception {
        node = RealNode.create();
        config = node.configFile("runcible", Map.of());
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    @AfterEach
    void removeEverything() throws Exception {
        node.removeAllContainers();
    }

    private static RunRequest request(List<String> command) throws Exception {
        return RunRequest.of(ImageReference.parse(RealNode.IMAGE), command);
    }

    @Test
    void layersWrittenWithGzipRunAndTheDoctorNamesTheirCompressor() throws Exception {
        Path store = node.base.resolve("gzip-store");
        Path gzip = node.configFile("gzip", Map.of("squashfs.compression", "gzip", "local.root", store.toString(),
                "squashfs.cache.dir", node.base.resolve("gzip-cache").toString()));
        Cli imported = Cli.run(gzip, "import", "dir:" + node.base.resolve("rootfs-test_busybox_1"), "--tag",
                "gzip/busybox:1", "--change", "USER worker");
        assertThat(imported.exitCode()).as(imported.err()).isZero();
        try (java.util.stream.Stream<Path> layers = Files.list(store.resolve("layers"))) {
            for (Path layer : layers.filter(p -> p.toString().endsWith(".sqsh")).toList()) {
                byte[] head = Files.readAllBytes(layer);
                assertThat(head[20] | head[21] << 8).as("gzip's id in the superblock").isEqualTo(1);
            }
        }
        Cli run = Cli.run(gzip, "run", "--rm", "gzip/busybox:1", "--", "echo", "gzip layers");
        assertThat(run.out()).isEqualTo("gzip layers\n");
        Cli doctor = Cli.run(gzip, "doctor");
        assertThat(doctor.out()).contains("squashfs layers as written here (gzip) mount on this kernel");
        Cli zstd = Cli.run(config, "doctor");
        assertThat(zstd.out()).contains("squashfs layers as written here (zstd) mount on this kernel")
                .as("the overlay is mounted by mount(2) here, not by running mount")
                .contains("[INFO] mounts through mount(2) and umount2(2) through libc (JNA)");
        Cli typo = Cli.run(node.configFile("bad-compression", Map.of("squashfs.compression", "zip")), "images");
        assertThat(typo.err()).contains("'squashfs.compression' must be one of zstd, gzip, xz, lz4, got 'zip'");
        node.assertNothingLeftRunning();
    }

    private static String digestOfLayerIn(Path dir) throws Exception {
        try (java.util.stream.Stream<Path> files = Files.list(dir.resolve("layers"))) {
            Path layer = files.filter(p -> p.toString().endsWith(".sqsh")).findFirst().orElseThrow();
            return dev.runcible.api.Digest.of(layer).hex();
        }
    }

    @Test
    void aLayerRebuiltInTheStoreIsFetchedAgainOnceItsCheckIsDueWhileARunningContainerKeepsItsMount()
            throws Exception {
        Path store = node.base.resolve("rebuilt-store");
        Path eager = node.configFile("rebuilt-eager", Map.of("local.root", store.toString(),
                "squashfs.cache.dir", node.base.resolve("rebuilt-cache-eager").toString(),
                "squashfs.source-check-seconds", "0"));
        Path lazy = node.configFile("rebuilt-lazy", Map.of("local.root", store.toString(),
                "squashfs.cache.dir", node.base.resolve("rebuilt-cache-lazy").toString()));
        assertThat(Cli.run(eager, "import", "dir:" + node.base.resolve("rootfs-test_busybox_1"), "--tag",
                "rebuilt:1", "--change", "USER worker").exitCode()).isZero();
        assertThat(Cli.run(eager, "run", "-d", "--name", "keeper", "rebuilt:1", "--", "sleep", "60").exitCode())
                .isZero();
        assertThat(Cli.run(lazy, "run", "--rm", "rebuilt:1", "--", "true").exitCode()).isZero();
        String before = digestOfLayerIn(node.base.resolve("rebuilt-cache-eager"));
        assertThat(digestOfLayerIn(node.base.resolve("rebuilt-cache-lazy"))).isEqualTo(before);

        // As docker-to-squash.py -f does: the same layer name, new bytes (here gzip instead of zstd), no record.
        Path layer;
        try (java.util.stream.Stream<Path> files = Files.list(store.resolve("layers"))) {
            layer = files.filter(p -> p.toString().endsWith(".sqsh")).findFirst().orElseThrow();
        }
        Files.deleteIfExists(Path.of(layer + ".sha256"));
        Path tree = node.base.resolve("rebuilt-tree");
        Path rebuilt = node.base.resolve("rebuilt.sqsh");
        assertThat(Commands.run(List.of("unsquashfs", "-q", "-n", "-d", tree.toString(), layer.toString()), 60).ok())
                .isTrue();
        assertThat(Commands.run(List.of("mksquashfs", tree.toString(), rebuilt.toString(), "-comp", "gzip",
                "-noappend", "-quiet", "-no-progress"), 60).ok()).isTrue();
        Files.delete(layer);
        Files.move(rebuilt, layer);
        String after = dev.runcible.api.Digest.of(layer).hex();
        assertThat(after).isNotEqualTo(before);

        Cli again = Cli.run(eager, "run", "--rm", "rebuilt:1", "--", "echo", "still here");
        assertThat(again.out()).as(again.err()).isEqualTo("still here\n");
        assertThat(digestOfLayerIn(node.base.resolve("rebuilt-cache-eager"))).as("fetched again").isEqualTo(after);
        assertThat(Cli.run(lazy, "run", "--rm", "rebuilt:1", "--", "true").exitCode()).isZero();
        assertThat(digestOfLayerIn(node.base.resolve("rebuilt-cache-lazy"))).as("not asked again within 60 s")
                .isEqualTo(before);
        assertThat(Cli.run(eager, "ps").out()).contains("keeper").contains("running");
        assertThat(Cli.run(eager, "rm", "--force", "keeper").exitCode()).isZero();
        node.assertNothingLeftRunning();
    }

    @Test
    void fiftyContainersRunToTheirEndWithoutRmHoldNoMountButKeepTheirRecordsAndLogs() throws Exception {
        int count = 50;
        List<String> ids = new java.util.ArrayList<>();
        try (Runcible runcible = node.open(Map.of())) {
            ContainerManager containers = runcible.containers();
            for (int i = 0; i < count; i++) {
                // Detached, as run -d: no launcher waits, so the supervisor's exit hook releases the mounts.
                RunRequest request = new RunRequest(ImageReference.parse(RealNode.IMAGE), Optional.empty(),
                        List.of("sh", "-c", "echo out-" + i + "; exit " + (i % 7)), List.of(), Limits.NONE,
                        List.of(), Optional.empty(), dev.runcible.core.runtime.Network.HOST, false, false);
                ids.add(containers.run(request).record().id());
            }
        }
        // And two foreground runs, whose launcher releases the mounts itself.
        for (int i = 0; i < 2; i++) {
            assertThat(Cli.run(config, "run", RealNode.IMAGE, "--", "echo", "fg").out()).isEqualTo("fg\n");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline && !(node.mounts().isEmpty()
                && ids.stream().allMatch(id -> Files.exists(node.runDir.resolve("containers/" + id + "/released"))))) {
            Thread.sleep(200);
        }
        assertThat(node.mounts()).as("no overlay and no layer mount (keep is 0)").isEmpty();
        Cli ps = Cli.run(config, "ps", "--all");
        assertThat(ps.out().lines().filter(line -> line.contains("exited")).count()).isEqualTo(count + 2);
        assertThat(Cli.run(config, "logs", ids.get(8)).out()).isEqualTo("out-8\n");
        assertThat(Cli.run(config, "wait", ids.get(9)).exitCode()).isEqualTo(2);
        // A new container mounts the released layers again.
        assertThat(Cli.run(config, "run", "--rm", RealNode.IMAGE, "--", "echo", "again").out()).isEqualTo("again\n");
        for (String id : ids) {
            assertThat(Cli.run(config, "rm", id).exitCode()).isZero();
        }
    }

    @Test
    void foregroundRunStreamsOutputAndExitsWithTheContainersCode() {
        Cli cli = Cli.run(config, "run", RealNode.IMAGE, "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 7");
        assertThat(cli.exitCode()).isEqualTo(7);
        assertThat(cli.out()).isEqualTo("to-out\n");
        assertThat(cli.err()).isEqualTo("to-err\n");
        Cli ps = Cli.run(config, "ps", "--all", "--json");
        assertThat(ps.out()).contains("\"state\" : \"exited\"").contains("\"exitCode\" : 7");
    }

    @Test
    void imageConfigSetsEnvWorkingDirUserAndCommand() {
        Cli cli = Cli.run(config, "run", "--rm", RealNode.IMAGE);
        assertThat(cli.err()).isEmpty();
        assertThat(cli.out()).isEqualTo("hello from /work as 1000:1000\n");
        assertThat(cli.exitCode()).isZero();
        Cli groups = Cli.run(config, "run", "--rm", "--env", "GREETING=bye", RealNode.IMAGE, "--", "sh", "-c",
                "echo $GREETING $HOME; id -G");
        assertThat(groups.out()).isEqualTo("bye /work\n1000 2000\n");
    }

    @Test
    void limitsAreVisibleInTheContainersCgroups() throws Exception {
        try (Runcible runcible = node.open(Map.of())) {
            ContainerManager containers = runcible.containers();
            RunRequest request = new RunRequest(ImageReference.parse(RealNode.IMAGE), Optional.of("limited"),
                    List.of("sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes; sleep 30"), List.of(),
                    Limits.parse("64m", 150, 40L), List.of());
            String id = containers.run(request).record().id();
            Path cgroup = Path.of("/sys/fs/cgroup");
            assertThat(read(cgroup.resolve("memory/runcible/" + id + "/memory.limit_in_bytes"))).isEqualTo("67108864");
            assertThat(read(cgroup.resolve("cpu/runcible/" + id + "/cpu.cfs_quota_us"))).isEqualTo("150000");
            assertThat(read(cgroup.resolve("cpu/runcible/" + id + "/cpu.cfs_period_us"))).isEqualTo("100000");
            assertThat(read(cgroup.resolve("pids/runcible/" + id + "/pids.max"))).isEqualTo("40");
            containers.remove("limited", true);
            assertThat(cgroup.resolve("memory/runcible/" + id)).doesNotExist();
            assertThat(cgroup.resolve("pids/runcible/" + id)).doesNotExist();
        }
    }

    private static String read(Path file) throws Exception {
        return Files.readString(file, StandardCharsets.US_ASCII).strip();
    }

    @Test
    void containersOfOneImageShareOneLayerMount() throws Exception {
        try (Runcible runcible = node.open(Map.of())) {
            ContainerManager containers = runcible.containers();
            String first = containers.run(request(List.of("sleep", "30"))).record().id();
            String second = containers.run(request(List.of("sleep", "30"))).record().id();
            List<MountTable.Mount> squashfs = node.mounts().stream().filter(m -> m.fsType().equals("squashfs"))
                    .toList();
            List<MountTable.Mount> overlays = node.mounts().stream().filter(m -> m.fsType().equals("overlay"))
                    .toList();
            assertThat(squashfs).hasSize(1);
            assertThat(squashfs.get(0).options()).contains("ro").contains("nosuid").contains("nodev");
            assertThat(overlays).hasSize(2);
            Path cached;
            try (var files = Files.list(node.cache.resolve("layers"))) {
                cached = files.filter(p -> p.toString().endsWith(".sqsh")).findFirst().orElseThrow();
            }
            assertThat(Commands.run(List.of("losetup", "-j", cached.toString()), 10).stdout().lines()).hasSize(1);

            containers.remove(first, true);
            assertThat(node.mounts()).filteredOn(m -> m.fsType().equals("squashfs")).hasSize(1);
            assertThat(containers.find(second).state()).isEqualTo(ContainerState.RUNNING);
            containers.remove(second, true);
            assertThat(node.mounts()).isEmpty();
            assertThat(Commands.run(List.of("losetup", "-j", cached.toString()), 10).stdout()).isBlank();
        }
    }

    @Test
    void exitCodeIsRecordedAfterTheLauncherProcessHasExited() throws Exception {
        // A separate launcher JVM starts the container detached and exits; this one reads the exit code later.
        Process launcher = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.runcible.core.cli.Main", "--config",
                config.toString(), "run", "--detach", "--name", "outlives", RealNode.IMAGE, "--", "sh", "-c",
                "sleep 2; exit 3").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String id = new String(launcher.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        assertThat(launcher.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(launcher.exitValue()).isZero();
        assertThat(id).matches("[0-9a-f]{64}");
        Cli ps = Cli.run(config, "ps");
        assertThat(ps.out()).contains(id.substring(0, 12)).contains("outlives").contains("running");
        Cli waited = Cli.run(config, "wait", "outlives");
        assertThat(waited.exitCode()).isEqualTo(3);
        assertThat(waited.out()).isEqualTo("3\n");
        assertThat(Cli.run(config, "ps", "--all").out()).contains("exited").contains("3");
        assertThat(Cli.run(config, "rm", "outlives").exitCode()).isZero();
    }

    @Test
    void killedContainerReportsTheSignalAsDockerDoes() throws Exception {
        assertThat(Cli.run(config, "run", "-d", "--name", "victim", RealNode.IMAGE, "--", "sleep", "60").exitCode())
                .isZero();
        Cli running = Cli.run(config, "rm", "victim");
        assertThat(running.exitCode()).isEqualTo(125);
        assertThat(running.err()).contains("is running").contains("rm --force");
        assertThat(Cli.run(config, "kill", "victim").exitCode()).isZero();
        assertThat(Cli.run(config, "wait", "victim").exitCode()).isEqualTo(137);
        Cli dead = Cli.run(config, "kill", "victim");
        assertThat(dead.exitCode()).isEqualTo(125);
        assertThat(dead.err()).contains("is exited, not running");
    }

    @Test
    void missingCommandExits127AndLeavesNothingBehind() throws Exception {
        Cli cli = Cli.run(config, "run", RealNode.IMAGE, "--", "no-such-command");
        assertThat(cli.exitCode()).isEqualTo(127);
        assertThat(cli.err()).contains("no-such-command").contains("not found");
        node.assertNothingLeftRunning();
    }

    @Test
    void bindMountsOnlyFromAllowedPrefixes() throws Exception {
        Files.writeString(node.shared.resolve("data.txt"), "shared data");
        Cli ok = Cli.run(config, "run", "--rm", "--mount", node.shared + ":/data:ro", RealNode.IMAGE, "--", "sh",
                "-c", "cat /data/data.txt; echo x > /data/new 2>/dev/null || echo read-only");
        assertThat(ok.out()).isEqualTo("shared data" + "read-only\n");
        Cli rw = Cli.run(config, "run", "--rm", "--mount", node.shared + ":/data:rw", RealNode.IMAGE, "--", "true");
        assertThat(rw.exitCode()).isEqualTo(125);
        assertThat(rw.err()).contains("is not under runcible.mounts.allowed-rw");
        Cli outside = Cli.run(config, "run", "--rm", "--mount", "/etc:/host-etc:ro", RealNode.IMAGE, "--", "true");
        assertThat(outside.exitCode()).isEqualTo(125);
        assertThat(outside.err()).contains("Bind mount source /etc");
        node.assertNothingLeftRunning();
    }

    @Test
    void rootInsideNeedsTheNodesPermission() throws Exception {
        Cli refused = Cli.run(config, "run", "--rm", "--user", "0", RealNode.IMAGE, "--", "id", "-u");
        assertThat(refused.exitCode()).isEqualTo(125);
        assertThat(refused.err()).contains("would run as root (uid 0) as --user asks").contains("runcible.allow-root");
        node.assertNothingLeftRunning();
        Cli allowed = Cli.run(node.configFile("root-allowed", Map.of("runcible.allow-root", "true")), "run", "--rm",
                "--user", "0", RealNode.IMAGE, "--", "id", "-u");
        assertThat(allowed.out()).isEqualTo("0\n");
        Cli other = Cli.run(config, "run", "--rm", "--user", "4242:4343", RealNode.IMAGE, "--", "id");
        assertThat(other.out()).startsWith("uid=4242 gid=4343");
    }

    @Test
    void theDefaultSeccompProfileBlocksNewNamespaces() throws Exception {
        Cli blocked = Cli.run(config, "run", "--rm", RealNode.IMAGE, "--", "sh", "-c", "unshare -U true; echo rc=$?");
        assertThat(blocked.out()).isEqualTo("rc=1\n");
        assertThat(blocked.err()).contains("Operation not permitted");
        Cli unconfined = Cli.run(node.configFile("unconfined", Map.of("runcible.seccomp.profile", "unconfined")),
                "run", "--rm", RealNode.IMAGE, "--", "sh", "-c", "unshare -U true; echo rc=$?");
        assertThat(unconfined.out()).as("without the filter the same call works here").isEqualTo("rc=0\n");
    }

    @Test
    void statsReadsTheContainersCgroup() throws Exception {
        assertThat(Cli.run(config, "run", "-d", "--name", "measured", "--memory", "64m", RealNode.IMAGE, "--",
                "sleep", "30").exitCode()).isZero();
        Cli stats = Cli.run(config, "stats", "--json", "measured");
        assertThat(stats.exitCode()).as(stats.err()).isZero();
        var json = dev.runcible.core.image.Json.MAPPER.readTree(stats.out());
        assertThat(json.get("cgroup").asText()).isIn("v1", "v2");
        assertThat(json.get("memoryLimit").asLong()).isEqualTo(64L << 20);
        assertThat(json.get("memoryBytes").asLong()).isPositive();
        assertThat(json.get("pids").asLong()).isGreaterThanOrEqualTo(1);
        assertThat(json.get("pidsLimit").asLong()).isEqualTo(4096);
        assertThat(Cli.run(config, "stats", "measured").out()).contains("64.0 MiB").contains("/ 4096");
        Cli.run(config, "kill", "measured");
        Cli.run(config, "wait", "measured");
        Cli exited = Cli.run(config, "stats", "measured");
        assertThat(exited.exitCode()).isEqualTo(125);
        assertThat(exited.err()).contains("is exited");
    }

    @Test
    void aContainerThatAsksForNoPidsLimitGetsTheDefault() throws Exception {
        try (Runcible runcible = node.open(Map.of())) {
            String id = runcible.containers().run(request(List.of("sleep", "30"))).record().id();
            assertThat(read(Path.of("/sys/fs/cgroup/pids/runcible/" + id + "/pids.max"))).isEqualTo("4096");
        }
    }

    @Test
    void theLaunchersStateStoreCacheAndConfigurationAreNeverMounted() throws Exception {
        Path everything = node.configFile("rw-everything", Map.of("runcible.mounts.allowed-rw", "/"));
        for (Path exposed : List.of(node.runDir, everything.getParent(), node.store, node.store.resolve("layers"),
                node.cache, Path.of("/"))) {
            for (String mode : List.of("rw", "ro")) {
                Cli cli = Cli.run(everything, "run", "--rm", "--mount", exposed + ":/x:" + mode, RealNode.IMAGE, "--",
                        "true");
                assertThat(cli.exitCode()).as(exposed + ":" + mode).isEqualTo(125);
                assertThat(cli.err()).contains("(the launcher's own state, store or configuration)");
            }
        }
        Cli elsewhere = Cli.run(everything, "run", "--rm", "--mount", node.shared + ":/x:rw", RealNode.IMAGE, "--",
                "true");
        assertThat(elsewhere.exitCode()).as(elsewhere.err()).isZero();
        node.assertNothingLeftRunning();
    }

    @Test
    void namesAreUniqueAndFindableByIdPrefix() throws Exception {
        try (Runcible runcible = node.open(Map.of())) {
            ContainerManager containers = runcible.containers();
            RunRequest named = new RunRequest(ImageReference.parse(RealNode.IMAGE), Optional.of("web.1"),
                    List.of("sleep", "30"), List.of(), Limits.NONE, List.of(new BindMount(node.shared, "/s", true)));
            String id = containers.run(named).record().id();
            Cli duplicate = Cli.run(config, "run", "--name", "web.1", RealNode.IMAGE, "--", "true");
            assertThat(duplicate.exitCode()).isEqualTo(125);
            assertThat(duplicate.err()).contains("'web.1' is in use");
            assertThat(containers.find(id.substring(0, 8)).record().name()).isEqualTo("web.1");
            Cli badName = Cli.run(config, "run", "--name", "-bad", RealNode.IMAGE, "--", "true");
            assertThat(badName.err()).contains("Invalid container name '-bad'");
            // A name may not pass for another container's id, and ids are looked up before names.
            Cli impostor = Cli.run(config, "run", "-d", "--name", id, RealNode.IMAGE, "--", "true");
            assertThat(impostor.exitCode()).isEqualTo(125);
            assertThat(impostor.err()).contains("look like a container id");
            Cli shortImpostor = Cli.run(config, "run", "-d", "--name", id.substring(0, 12), RealNode.IMAGE, "--",
                    "true");
            assertThat(shortImpostor.err()).contains("look like a container id");
            assertThat(containers.find(id).record().name()).isEqualTo("web.1");
        }
    }
}
