package dev.runcible.core.container;

import dev.runcible.api.Digest;
import dev.runcible.api.RuncibleException;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.NoSuchContainerException;
import dev.runcible.core.container.RunDirectory.ContainerFiles;
import dev.runcible.core.host.ProcessIdentity;
import dev.runcible.core.image.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads containers back from the run directory: their records and, derived each time from the files and the
 * supervisor's liveness, their state and exit code, and waits for an exit. Nothing here writes.
 */
final class ContainerStates {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerStates.class);

    private final RunDirectory runDir;
    private final Map<String, ContainerRecord> parsed = new ConcurrentHashMap<>();

    ContainerStates(RunDirectory runDir) {
        this.runDir = runDir;
    }

    List<ContainerInfo> list() throws RuncibleException {
        List<ContainerInfo> out = new ArrayList<>();
        for (ContainerRecord record : records()) {
            out.add(inspect(record, runDir.container(record.id())));
        }
        out.sort(Comparator.comparing((ContainerInfo i) -> i.record().created()).reversed());
        return out;
    }

    /**
     * The records of every container directory, without looking at their state. A record is written once, before
     * anything else in its directory, and never changed, so each is parsed once per launcher and kept by id.
     */
    List<ContainerRecord> records() throws RuncibleException {
        List<ContainerRecord> out = new ArrayList<>();
        if (!Files.isDirectory(runDir.containers())) {
            parsed.clear();
            return out;
        }
        Set<String> present = new HashSet<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(runDir.containers())) {
            for (Path dir : dirs) {
                // Only directories the launcher made: named by an id, holding a record of that same id.
                String name = dir.getFileName().toString();
                if (!Digest.isHex(name)) {
                    continue;
                }
                present.add(name);
                ContainerRecord record = parsed.get(name);
                if (record == null) {
                    record = readRecord(runDir.container(name));
                    if (record == null || !record.id().equals(name)) {
                        continue;
                    }
                    parsed.put(name, record);
                }
                out.add(record);
            }
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot list " + runDir.containers() + ": " + e.getMessage(), e);
        }
        parsed.keySet().retainAll(present);
        return out;
    }

    /** The container's record, or null when it has none that parses. */
    static ContainerRecord readRecord(ContainerFiles files) {
        try {
            return Json.MAPPER.readValue(files.record().toFile(), ContainerRecord.class);
        } catch (IOException e) {
            LOG.debug("Skipping {}: no readable container.json ({})", files.dir(), e.getMessage());
            return null;
        }
    }

    static ContainerInfo inspect(ContainerRecord record, ContainerFiles files) {
        OptionalInt exit = readExitCode(files);
        if (exit.isPresent()) {
            return new ContainerInfo(record, ContainerState.EXITED, exit);
        }
        ProcessIdentity shim;
        try {
            shim = ProcessIdentity.parse(Files.readString(files.shimPid(), StandardCharsets.US_ASCII));
        } catch (IOException | RuntimeException e) {
            return new ContainerInfo(record, ContainerState.CREATED, OptionalInt.empty());
        }
        if (shim.isAlive()) {
            ContainerState state = Files.exists(files.containerPid()) ? ContainerState.RUNNING : ContainerState.CREATED;
            return new ContainerInfo(record, state, OptionalInt.empty());
        }
        // The shim writes the exit code just before it exits: read again before calling the container dead.
        exit = readExitCode(files);
        return new ContainerInfo(record, exit.isPresent() ? ContainerState.EXITED : ContainerState.DEAD, exit);
    }

    static OptionalInt readExitCode(ContainerFiles files) {
        try {
            return OptionalInt.of(Integer.parseInt(Files.readString(files.exitCode(), StandardCharsets.US_ASCII)
                    .strip()));
        } catch (IOException | NumberFormatException e) {
            return OptionalInt.empty();
        }
    }

    /**
     * Finds a container by full id, then by name, then by unique id prefix. Ids come first, so no name can stand in
     * for another container's id.
     */
    ContainerInfo find(String idOrName) throws RuncibleException {
        return find(idOrName, list());
    }

    /** Finds a container among {@code all} (those a caller may see), as {@link #find(String)} does. */
    static ContainerInfo find(String idOrName, List<ContainerInfo> all) throws RuncibleException {
        for (ContainerInfo info : all) {
            if (info.record().id().equals(idOrName)) {
                return info;
            }
        }
        for (ContainerInfo info : all) {
            if (info.record().name().equals(idOrName)) {
                return info;
            }
        }
        List<ContainerInfo> prefixed = all.stream().filter(i -> i.record().id().startsWith(idOrName)).toList();
        if (prefixed.size() == 1 && !idOrName.isEmpty()) {
            return prefixed.get(0);
        }
        if (prefixed.size() > 1 && !idOrName.isEmpty()) {
            throw new NoSuchContainerException("Container id prefix '" + idOrName + "' matches " + prefixed.size()
                    + " containers; give more of the id");
        }
        throw new NoSuchContainerException("No container '" + idOrName + "'; 'runcible ps --all' lists them");
    }

    /**
     * Waits for the container to exit and returns its exit code; one that stays without a supervisor for
     * {@code startTimeoutMillis} was never started.
     */
    static int awaitExit(ContainerInfo found, ContainerFiles files, long startTimeoutMillis) throws RuncibleException {
        ContainerInfo info = found;
        long sleep = 5;
        long unstartedSince = System.currentTimeMillis();
        while (info.isActive()) {
            // A record without a supervisor is being created, or was left half-made by a launcher that died.
            if (!Files.exists(files.shimPid())
                    && System.currentTimeMillis() - unstartedSince > startTimeoutMillis) {
                throw new ContainerRuntimeException("Container " + info.record().name() + " was never started; "
                        + "remove it with 'runcible rm " + info.record().name() + "'");
            }
            if (Files.exists(files.shimPid())) {
                unstartedSince = System.currentTimeMillis();
            }
            try {
                Thread.sleep(sleep);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ContainerRuntimeException("Interrupted while waiting for " + info.record().name());
            }
            sleep = Math.min(sleep * 2, 100);
            info = ContainerStates.inspect(info.record(), files);
        }
        if (info.state() == ContainerState.DEAD) {
            throw new ContainerRuntimeException("Container " + info.record().name() + " is dead: its supervisor "
                    + "ended without recording an exit code (was the node rebooted?)");
        }
        return info.exitCode().orElseThrow();
    }
}
