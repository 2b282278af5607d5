package dev.runcible.core.host;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/** Finds programs on PATH, and in the sbin directories a non-login root shell may leave out of it. */
public final class Executables {
    private Executables() {
    }

    public static Optional<Path> find(String name) {
        if (name.contains("/")) {
            Path path = Path.of(name);
            return Files.isExecutable(path) && !Files.isDirectory(path) ? Optional.of(path) : Optional.empty();
        }
        Set<String> dirs = new LinkedHashSet<>();
        String env = System.getenv("PATH");
        if (env != null) {
            for (String dir : env.split(File.pathSeparator)) {
                if (!dir.isEmpty()) {
                    dirs.add(dir);
                }
            }
        }
        dirs.add("/usr/local/sbin");
        dirs.add("/usr/sbin");
        dirs.add("/sbin");
        dirs.add("/usr/bin");
        dirs.add("/bin");
        for (String dir : dirs) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
