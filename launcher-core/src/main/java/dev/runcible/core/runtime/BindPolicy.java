package dev.runcible.core.runtime;

import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.config.CoreConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Which host paths a container may bind: only under {@code runcible.mounts.allowed-ro} (read-only) or
 * {@code runcible.mounts.allowed-rw}, judged on the real path with symlinks resolved. Never, whatever those lists
 * say and read-only included, the launcher's own state: the run directory (every container's env and root
 * filesystem), the configuration's directory, the local store and the plugins' caches and tag files, nor anything
 * inside them or above them.
 */
public final class BindPolicy {
    private final List<Path> allowedReadOnly;
    private final List<Path> allowedReadWrite;
    /** Where the launcher's own state and settings live. */
    private final List<Path> protectedPaths;

    BindPolicy(List<Path> allowedReadOnly, List<Path> allowedReadWrite, List<Path> protectedPaths) {
        this.allowedReadOnly = List.copyOf(allowedReadOnly);
        this.allowedReadWrite = List.copyOf(allowedReadWrite);
        this.protectedPaths = protectedPaths.stream().map(BindPolicy::realOrSelf).toList();
    }

    /** The policy of a configuration; {@code state} lists the plugins' own host paths (store, cache, tag files). */
    public static BindPolicy of(CoreConfig config, List<Path> state) {
        List<Path> protect = new ArrayList<>(List.of(config.runDir()));
        config.configDirectory().ifPresent(protect::add);
        protect.addAll(state);
        return new BindPolicy(config.allowedReadOnly(), config.allowedReadWrite(), protect);
    }

    /** The mounts with their sources resolved to real paths, or the first refusal. */
    public List<BindMount> check(List<BindMount> mounts) throws InvalidRequestException {
        List<BindMount> checked = new ArrayList<>();
        for (BindMount mount : mounts) {
            Path real;
            try {
                real = mount.source().toRealPath();
            } catch (IOException e) {
                throw new InvalidRequestException("Bind mount source " + mount.source() + " does not exist");
            }
            for (Path protectedPath : protectedPaths) {
                if (protectedPath.startsWith(real) || real.startsWith(protectedPath)) {
                    throw new InvalidRequestException("Bind mount source " + mount.source() + " would expose "
                            + protectedPath + " (the launcher's own state, store or configuration) to the "
                            + "container; bind a directory outside it");
                }
            }
            boolean allowed = under(real, allowedReadWrite) || (mount.readOnly() && under(real, allowedReadOnly));
            if (!allowed) {
                throw new InvalidRequestException("Bind mount source " + mount.source()
                        + (real.equals(mount.source()) ? "" : " (really " + real + ")") + " is not under "
                        + (mount.readOnly() ? "runcible.mounts.allowed-ro or runcible.mounts.allowed-rw "
                                + allowedReadOnly + allowedReadWrite
                                : "runcible.mounts.allowed-rw " + allowedReadWrite)
                        + "; add a prefix to the configuration or mount it :ro");
            }
            checked.add(new BindMount(real, mount.destination(), mount.readOnly()));
        }
        return checked;
    }

    private static Path realOrSelf(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            return path.toAbsolutePath().normalize();
        }
    }

    private static boolean under(Path path, List<Path> prefixes) {
        return prefixes.stream().anyMatch(path::startsWith);
    }
}
