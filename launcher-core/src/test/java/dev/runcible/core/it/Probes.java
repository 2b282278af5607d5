package dev.runcible.core.it;

import dev.runcible.core.host.Commands;
import dev.runcible.core.host.Executables;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Test helpers that act as parties other than root: a static C probe ({@code src/test/c/probe.c}) that makes one
 * system call and prints what the kernel answered, and commands run on the host as an unprivileged user.
 */
final class Probes {
    /** The unprivileged host user the tests act as: Debian's {@code nobody}. */
    static final int NOBODY = 65534;
    private static final Path SOURCE = Path.of("src/test/c/probe.c");
    private static Path built;

    private Probes() {
    }

    /** The probe, compiled statically once per test JVM (gcc and libc6-dev, installed by bin/install-prerequisites). */
    static synchronized Path probe() throws IOException {
        if (built != null) {
            return built;
        }
        if (Executables.find("gcc").isEmpty() || Executables.find("setpriv").isEmpty()) {
            String message = "Security tests need gcc (with libc6-dev) and setpriv (see bin/install-prerequisites)";
            if ("1".equals(System.getenv("RUNCIBLE_REQUIRE_ROOT_TESTS"))) {
                Assertions.fail(message);
            }
            Assumptions.abort(message);
        }
        Path out = Files.createDirectories(Path.of("target", "test-probes")).resolve("probe").toAbsolutePath();
        Commands.Result result = Commands.run(List.of("gcc", "-static", "-O2", "-Wall", "-o", out.toString(),
                SOURCE.toAbsolutePath().toString()), 120);
        Assertions.assertEquals(0, result.exitCode(), () -> "gcc failed: " + result.stderr());
        built = out;
        return built;
    }

    /**
     * Runs a host command as uid and gid {@link #NOBODY}, with no supplementary groups. setpriv keeps root's
     * capabilities up to its own exec, so the path of the command would be looked up with them: a shell, which has
     * none left, looks it up instead.
     */
    static Commands.Result asNobody(String... command) throws IOException {
        List<String> all = new ArrayList<>(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY,
                "--clear-groups", "--", "/bin/sh", "-c", "exec \"$@\"", "sh"));
        all.addAll(List.of(command));
        return Commands.run(all, 30);
    }
}
