package dev.runcible.core.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.api.ImageReference;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.Runcible;
import dev.runcible.core.container.ContainerRecord;
import dev.runcible.core.container.RunRequest;
import dev.runcible.core.host.Commands;
import dev.runcible.core.host.Executables;
import dev.runcible.core.host.ProcessIdentity;
import dev.runcible.core.image.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code rm --force} and {@code gc} finish what they start, whatever state runc and the creating launcher are in. */
class ForcedRemovalIT {
    /** A sleep no other test runs, so the test can tell whether it survived. */
    private static final String HOOK_SECONDS = "3141";
    private static RealNode node;

    @BeforeAll
    static void setUp() throws Exception {
        node = RealNode.create();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    /**
     * A runc whose container never finishes starting. This is the real runc, but the bundle it is handed first gets
     * an OCI createRuntime hook that sleeps: {@code runc init} then waits in the container's cgroup, as a stuck one
     * does. (A real stuck init cannot be produced on demand; this is the nearest real thing.)
     */
    private static Path stuckRunc() throws Exception {
        Path real = Executables.find("runc").orElseThrow();
        Path script = node.base.resolve("stuck-runc");
        Files.writeString(script, String.join("\n", "#!/bin/sh",
                "bundle=",
                "previous=",
                "for arg in \"$@\"; do",
                "  [ \"$previous\" = --bundle ] && bundle=$arg",
                "  previous=$arg",
                "done",
                "if [ -n \"$bundle\" ]; then",
                "  sed -i '1s|^{|{\"hooks\":{\"createRuntime\":[{\"path\":\"/bin/sleep\",\"args\":[\"sleep\",\""
                        + HOOK_SECONDS + "\"]}]},|' \"$bundle/config.json\"",
                "fi",
                "exec " + real + " \"$@\"", ""));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    private static List<ProcessHandle> hookSleeps() {
        return ProcessHandle.allProcesses().filter(p -> p.info().arguments().map(a -> List.of(a).contains(
                HOOK_SECONDS)).orElse(false)).toList();
    }

    private static List<Path> cgroupsOf(String id) throws Exception {
        try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
            return hierarchies.map(h -> h.resolve("runcible").resolve(id)).filter(Files::isDirectory).toList();
        }
    }

    @Test
    void rmForceEndsAContainerWhoseRuncInitIsStuckAndReleasesEverything() throws Exception {
        Map<String, String> stuck = Map.of("runcible.runc.binary", stuckRunc().toString());
        ExecutorService launcher = Executors.newSingleThreadExecutor();
        try (Runcible runcible = node.open(stuck)) {
            Future<?> launch = launcher.submit(() -> runcible.containers().run(RunRequest.of(
                    ImageReference.parse(RealNode.IMAGE), List.of("sleep", "60"))));
            Path containers = node.runDir.resolve("containers");
            String id = null;
            long deadline = System.currentTimeMillis() + 30_000;
            while (id == null || cgroupsOf(id).isEmpty() || hookSleeps().isEmpty()) {
                assertThat(System.currentTimeMillis()).as("the container never reached runc init").isLessThan(deadline);
                Thread.sleep(50);
                if (Files.isDirectory(containers)) {
                    try (Stream<Path> dirs = Files.list(containers)) {
                        id = dirs.map(p -> p.getFileName().toString()).findFirst().orElse(null);
                    }
                }
            }
            Cli removed = Cli.run(node.configFile("stuck", stuck), "rm", "--force", id);
            assertThat(removed.exitCode()).as(removed.err()).isZero();
            String gone = id;
            assertThatThrownBy(() -> launch.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(
                    ContainerRuntimeException.class);
            assertThat(hookSleeps()).as("the stuck runc's hook").isEmpty();
            assertThat(cgroupsOf(gone)).as("cgroups").isEmpty();
            node.assertNothingLeftRunning();
            assertThat(Commands.run(List.of("losetup", "-a"), 10).stdout()).doesNotContain(node.base.toString());
        } finally {
            launcher.shutdownNow();
            hookSleeps().forEach(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void aHalfMadeContainerWhoseCreatorLivesOnButGaveUpIsRemovedByRmAndGc() throws Exception {
        Path config = node.configFile("plain", Map.of());
        // Records as a launcher that lives on (this JVM, as the agent would) leaves them when it gives up on a
        // launch: no supervisor, no thread creating them.
        String first = halfMade();
        String second = halfMade();
        Cli rm = Cli.run(config, "rm", "--force", first);
        assertThat(rm.exitCode()).as(rm.err()).isZero();
        Cli gc = Cli.run(config, "gc");
        assertThat(gc.exitCode()).as(gc.err()).isZero();
        assertThat(node.runDir.resolve("containers").resolve(second)).doesNotExist();
        node.assertNothingLeftRunning();
    }

    private static String halfMade() throws Exception {
        byte[] bytes = new byte[32];
        new Random().nextBytes(bytes);
        String id = HexFormat.of().formatHex(bytes);
        Path dir = Files.createDirectories(node.runDir.resolve("containers").resolve(id));
        Files.createDirectories(dir.resolve("rootfs"));
        ContainerRecord record = new ContainerRecord(id, "half-" + id.substring(0, 6), RealNode.IMAGE,
                "sha256:" + "0".repeat(64), List.of(), Instant.now().toString(), List.of("true"), "/runcible/" + id,
                ProcessIdentity.self().format().strip());
        Files.write(dir.resolve("container.json"), Json.MAPPER.writeValueAsBytes(record));
        return id;
    }
}
