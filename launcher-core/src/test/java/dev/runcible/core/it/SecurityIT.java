package dev.runcible.core.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.core.host.Commands;
import dev.runcible.core.host.MountTable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The security model, tried as an attacker would: a tenant's image and command inside real runc containers, and
 * another local user of the node (Debian's {@code nobody}, through {@code setpriv}) on the host.
 */
class SecurityIT {
    static final String PROBE_IMAGE = "test/probe:1";
    private static RealNode node;
    private static Path config;

    @BeforeAll
    static void setUp() throws Exception {
        node = RealNode.create();
        Path probe = Probes.probe();
        node.importImage(PROBE_IMAGE, List.of("USER worker"), rootfs -> {
            Files.copy(probe, rootfs.resolve("bin/probe"));
            Path setuid = rootfs.resolve("bin/probe-suid");
            Files.copy(probe, setuid);
            assertThat(Commands.run(List.of("chmod", "4755", setuid.toString()), 10).ok()).isTrue();
            // For a JVM bound in from the host's /usr (Debian's merged /usr).
            Files.createSymbolicLink(rootfs.resolve("lib"), Path.of("usr/lib"));
            Files.createSymbolicLink(rootfs.resolve("lib64"), Path.of("usr/lib64"));
        });
        // The node's scratch directory is made reachable, as /var/lib is: the run directory's own modes must hold.
        Files.setPosixFilePermissions(node.base, PosixFilePermissions.fromString("rwxr-xr-x"));
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

    private static String mode(Path path) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }

    @Test
    void noOtherLocalUserReachesIntoTheRunDirectoryOrRunsASetuidBinaryFromIt() throws Exception {
        // A run directory left with loose modes (an older launcher, an operator's mkdir) is tightened.
        Files.createDirectories(node.runDir.resolve("containers"));
        Files.setPosixFilePermissions(node.runDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(node.runDir.resolve("containers"), PosixFilePermissions.fromString("rwxrwxrwx"));
        Cli started = Cli.run(config, "run", "-d", "--env", "SECRET=s3cret", PROBE_IMAGE, "--", "sh", "-c",
                "echo logged-secret; sleep 60");
        assertThat(started.exitCode()).as(started.err()).isZero();
        Path dir = node.runDir.resolve("containers").resolve(started.out().strip());
        awaitFile(dir.resolve("stdout.log"), "logged-secret");

        for (Path path : List.of(node.runDir, node.runDir.resolve("containers"), node.runDir.resolve("layers"),
                node.runDir.resolve("runc"), dir, node.cache)) {
            assertThat(mode(path)).as(path.toString()).isEqualTo("rwx------");
        }
        for (String file : List.of("config.json", "container.json", "stdout.log", "stderr.log", "shim.pid",
                "shim.log")) {
            assertThat(mode(dir.resolve(file))).as(file).isEqualTo("rw-------");
        }
        assertThat(Files.readString(dir.resolve("config.json"))).contains("SECRET=s3cret");
        Path setuid = dir.resolve("rootfs/bin/probe-suid");
        assertThat(Probes.asNobody(setuid.toString(), "euid").stdout()).doesNotContain("euid=");
        for (String file : List.of("config.json", "stdout.log", "rootfs/etc/passwd")) {
            Commands.Result read = Probes.asNobody("cat", dir.resolve(file).toString());
            assertThat(read.ok()).as("nobody reads " + file).isFalse();
            assertThat(read.stderr()).contains("Permission denied");
        }
        assertThat(Probes.asNobody("ls", node.runDir.resolve("containers").toString()).ok()).isFalse();

        // Behind the modes, the root filesystem itself is nosuid,nodev: with the directories opened up, the
        // setuid-root binary still runs as its caller.
        MountTable.Mount rootfs = MountTable.under(dir).stream().filter(m -> m.fsType().equals("overlay"))
                .findFirst().orElseThrow();
        assertThat(rootfs.options()).contains("nosuid").contains("nodev");
        try {
            for (Path path : List.of(node.runDir, node.runDir.resolve("containers"), dir)) {
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            Commands.Result asNobody = Probes.asNobody(setuid.toString(), "euid");
            assertThat(asNobody.stdout()).as(asNobody.stderr()).isEqualTo("euid=" + Probes.NOBODY + "\n");
        } finally {
            for (Path path : List.of(node.runDir, node.runDir.resolve("containers"), dir)) {
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwx------"));
            }
        }
    }

    private static void awaitFile(Path file, String text) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline) {
            if (Files.exists(file) && Files.readString(file, StandardCharsets.UTF_8).contains(text)) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError(file + " never held '" + text + "'");
    }

    private static final String PROBES = "for t in clone clone-newuser clone-newnet clone3 unshare-user io-uring; do "
            + "probe $t; done; probe personality 0; probe personality 8; probe personality 40000";

    @Test
    void theDefaultSeccompProfileRefusesNamespacesClone3IoUringAndOddPersonalities() throws Exception {
        String expected = String.join("\n", "clone ok", "clone-newuser errno=1", "clone-newnet errno=1",
                "clone3 errno=38", "unshare-user errno=1", "io-uring errno=1", "personality ok", "personality ok",
                "personality errno=1", "");
        Cli worker = Cli.run(config, "run", "--rm", PROBE_IMAGE, "--", "sh", "-c", PROBES);
        assertThat(worker.err()).isEmpty();
        assertThat(worker.out()).isEqualTo(expected);
        Path rootAllowed = node.configFile("root-allowed", Map.of("runcible.allow-root", "true"));
        Cli root = Cli.run(rootAllowed, "run", "--rm", "--user", "0", PROBE_IMAGE, "--", "sh", "-c", PROBES);
        assertThat(root.out()).as("root in the container has no CAP_SYS_ADMIN").isEqualTo(expected);
        Cli unconfined = Cli.run(node.configFile("unconfined", Map.of("runcible.seccomp.profile", "unconfined")),
                "run", "--rm", PROBE_IMAGE, "--", "sh", "-c", PROBES);
        assertThat(unconfined.out()).as("without the filter the same calls work here")
                .contains("clone-newuser ok", "clone3 ok", "io-uring ok");
    }

    @Test
    void aRealJvmAndABusyboxShellRunUnderTheDefaultProfile() throws Exception {
        Path javaHome = Path.of(System.getProperty("java.home")).toRealPath();
        String allowed = javaHome.startsWith("/usr") ? "/usr" : "/usr," + javaHome;
        Path jvmConfig = node.configFile("jvm", Map.of("runcible.mounts.allowed-ro", allowed));
        List<String> args = new java.util.ArrayList<>(List.of("run", "--rm", "--mount", "/usr:/usr:ro"));
        if (!javaHome.startsWith("/usr")) {
            args.addAll(List.of("--mount", javaHome + ":" + javaHome + ":ro"));
        }
        args.addAll(List.of(PROBE_IMAGE, "--", javaHome.resolve("bin/java").toString(), "-XX:+UseG1GC",
                "-XshowSettings:properties", "-version"));
        Cli java = Cli.run(jvmConfig, args.toArray(String[]::new));
        assertThat(java.exitCode()).as(java.err()).isZero();
        assertThat(java.err()).contains("java.vm.name").contains("version \"");
        Cli shell = Cli.run(config, "run", "--rm", "--pids", "77", PROBE_IMAGE, "--", "sh", "-c",
                "echo one two | grep -o two; ls / >/dev/null && (sleep 0 &) ; wait; id -u; "
                        + "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max");
        // The container's own user reads its cgroup: the run directory's tight modes stop at the launcher's files.
        assertThat(shell.out()).as(shell.err()).isEqualTo("two\n1000\n77\n");
    }

    @Test
    void containerRootHasNoRawSocketsAndNetworkNoneHasOnlyLoopback() throws Exception {
        Path rootAllowed = node.configFile("root-allowed", Map.of("runcible.allow-root", "true"));
        Cli packet = Cli.run(rootAllowed, "run", "--rm", "--user", "0", PROBE_IMAGE, "--", "probe", "packet");
        assertThat(packet.out()).isEqualTo("packet errno=1\n");
        Cli none = Cli.run(config, "run", "--rm", "--network", "none", PROBE_IMAGE, "--", "cat", "/proc/net/dev");
        assertThat(interfaces(none.out())).containsExactly("lo");
        Cli host = Cli.run(config, "run", "--rm", PROBE_IMAGE, "--", "cat", "/proc/net/dev");
        assertThat(interfaces(host.out())).containsExactlyInAnyOrderElementsOf(
                interfaces(Files.readString(Path.of("/proc/net/dev"))));
        Cli bad = Cli.run(config, "run", "--rm", "--network", "bridge", PROBE_IMAGE, "--", "true");
        assertThat(bad.exitCode()).isEqualTo(125);
        assertThat(bad.err()).contains("Invalid --network 'bridge'");
    }

    private static List<String> interfaces(String procNetDev) {
        try (Stream<String> lines = procNetDev.lines().skip(2)) {
            return lines.map(line -> line.substring(0, line.indexOf(':')).strip()).sorted().toList();
        }
    }
}
