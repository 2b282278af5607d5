package dev.runcible.core.cgroup;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A container's cgroup in every hierarchy mounted under the cgroup root: the v1 controllers of a hybrid host, or the
 * single v2 tree. Ends every process in it whatever runc's state, then removes it. This is what {@code rm --force}
 * falls back to when runc cannot stop a container: a {@code runc init} that never finished, a runc that failed
 * half-way, or a runc that was itself killed.
 */
public final class ContainerCgroups {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerCgroups.class);
    public static final Path ROOT = Path.of("/sys/fs/cgroup");

    private final Path root;

    public ContainerCgroups(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /**
     * Whether no process is left in the cgroup, in any hierarchy: what tells that every process of a container is
     * gone, including any that left runc's view (a daemonized child, a process of an exec).
     */
    public boolean isEmpty(String cgroupsPath) {
        for (Path dir : directories(cgroupsPath)) {
            if (!procs(dir).isEmpty()) {
                return false;
            }
        }
        return true;
    }

    /** The directories of {@code cgroupsPath} (such as /runcible/ID) that exist, one per hierarchy. */
    public List<Path> directories(String cgroupsPath) {
        // Never the root of a hierarchy, nor a path leaving it: what is found here is killed and removed.
        if (!cgroupsPath.matches("/?[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+")
                || cgroupsPath.contains("..")) {
            return List.of();
        }
        String relative = cgroupsPath.startsWith("/") ? cgroupsPath.substring(1) : cgroupsPath;
        Set<Path> found = new LinkedHashSet<>();
        if (Files.exists(root.resolve("cgroup.controllers"))) {
            add(found, root.resolve(relative)); // a v2 host
        }
        try (DirectoryStream<Path> hierarchies = Files.newDirectoryStream(root)) {
            for (Path hierarchy : hierarchies) {
                add(found, hierarchy.resolve(relative)); // each v1 controller, and unified on a hybrid host
            }
        } catch (IOException e) {
            LOG.debug("Cannot list {}: {}", root, e.getMessage());
        }
        return new ArrayList<>(found);
    }

    private static void add(Set<Path> found, Path candidate) {
        if (Files.isDirectory(candidate)) {
            try {
                found.add(candidate.toRealPath()); // cpu and cpuacct may be one hierarchy under two names
            } catch (IOException e) {
                // gone meanwhile
            }
        }
    }

    /**
     * Freezes the cgroup, sends SIGKILL to every process in it, thaws it so they die, and waits until it is empty.
     * Returns whether it emptied within {@code timeoutMillis}.
     */
    public boolean killAll(String cgroupsPath, long timeoutMillis) {
        List<Path> dirs = directories(cgroupsPath);
        if (dirs.isEmpty()) {
            return true;
        }
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (true) {
            Set<Long> pids = new LinkedHashSet<>();
            for (Path dir : dirs) {
                pids.addAll(procs(dir));
            }
            if (pids.isEmpty()) {
                return true;
            }
            if (System.currentTimeMillis() > deadline) {
                LOG.warn("Processes {} of cgroup {} did not end", pids, cgroupsPath);
                return false;
            }
            for (Path dir : dirs) {
                freeze(dir, true); // no fork can escape the kill below
                write(dir.resolve("cgroup.kill"), "1"); // v2 since Linux 5.14: the kernel kills them all
            }
            for (long pid : pids) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
            for (Path dir : dirs) {
                freeze(dir, false);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    /** Removes the cgroup's directories, deepest first; one that still holds processes is left and logged. */
    public void remove(String cgroupsPath) {
        for (Path dir : directories(cgroupsPath)) {
            List<Path> tree = new ArrayList<>();
            try (var walk = Files.walk(dir)) {
                walk.filter(Files::isDirectory).forEach(tree::add);
            } catch (IOException | java.io.UncheckedIOException e) {
                continue; // removed meanwhile (by runc, or a concurrent removal of the same container)
            }
            for (int i = tree.size() - 1; i >= 0; i--) {
                try {
                    Files.deleteIfExists(tree.get(i)); // rmdir: cgroupfs removes its own files with it
                } catch (IOException e) {
                    LOG.warn("Cannot remove cgroup {}: {}", tree.get(i), e.getMessage());
                }
            }
        }
    }

    private static void freeze(Path dir, boolean frozen) {
        if (Files.exists(dir.resolve("freezer.state"))) {
            write(dir.resolve("freezer.state"), frozen ? "FROZEN" : "THAWED");
        } else if (Files.exists(dir.resolve("cgroup.freeze"))) {
            write(dir.resolve("cgroup.freeze"), frozen ? "1" : "0");
        }
    }

    private static List<Long> procs(Path dir) {
        List<Long> pids = new ArrayList<>();
        try (var walk = Files.walk(dir)) {
            for (Path sub : walk.filter(Files::isDirectory).toList()) {
                try (BufferedReader in = Files.newBufferedReader(sub.resolve("cgroup.procs"),
                        StandardCharsets.US_ASCII)) {
                    for (String line; (line = in.readLine()) != null; ) {
                        if (!line.isBlank()) {
                            pids.add(Long.parseLong(line.strip()));
                        }
                    }
                } catch (NoSuchFileException e) {
                    // removed meanwhile
                }
            }
        } catch (IOException | NumberFormatException | java.io.UncheckedIOException e) {
            LOG.debug("Cannot read the processes of {}: {}", dir, e.getMessage());
        }
        return pids;
    }

    private static void write(Path file, String value) {
        if (!Files.exists(file)) {
            return;
        }
        try {
            Files.writeString(file, value, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            LOG.debug("Cannot write {} to {}: {}", value, file, e.getMessage());
        }
    }
}
