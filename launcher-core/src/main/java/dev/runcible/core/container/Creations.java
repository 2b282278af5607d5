package dev.runcible.core.container;

import dev.runcible.core.container.RunDirectory.ContainerFiles;
import dev.runcible.core.host.ProcessIdentity;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which containers a launcher thread is creating now. A creator's process being alive is not enough: a launcher
 * that lives on (the agent, a library caller) may have given up on a container. So the creating thread holds the
 * id in a set within its process, and a lock on the container's {@code creating} file against other processes,
 * from the record's first write until the container has started or been removed.
 */
final class Creations {
    private static final Logger LOG = LoggerFactory.getLogger(Creations.class);
    static final ProcessIdentity SELF = ProcessIdentity.self();
    private static final Set<String> CREATING = ConcurrentHashMap.newKeySet();
    private static final Map<String, FileChannel> LOCKS = new ConcurrentHashMap<>();

    private Creations() {
    }

    /** This thread starts creating the container. */
    static void begin(String id) {
        CREATING.add(id);
    }

    /** Takes the container's creation lock (a new file: nobody else can hold it). Caller holds the run lock. */
    static void hold(ContainerFiles files) throws IOException {
        FileChannel channel = FileChannel.open(files.creating(), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE);
        try {
            if (channel.tryLock() == null) {
                throw new IOException("the creation lock " + files.creating() + " is held");
            }
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        LOCKS.put(id(files), channel);
    }

    /** The container has started, or failed and been removed: its creation lock goes. */
    static void end(ContainerFiles files) {
        CREATING.remove(id(files));
        FileChannel channel = LOCKS.remove(id(files));
        try {
            if (channel != null) {
                channel.close();
            }
            Files.deleteIfExists(files.creating());
        } catch (IOException e) {
            LOG.debug("Cannot release {}: {}", files.creating(), e.getMessage());
        }
    }

    /** Whether a launcher thread, of this process or another, is creating the container now. */
    static boolean inProgress(ContainerRecord record, ContainerFiles files) {
        if (CREATING.contains(record.id())) {
            return true;
        }
        ProcessIdentity creator;
        try {
            creator = ProcessIdentity.parse(record.creator());
        } catch (RuntimeException e) {
            return false;
        }
        if (creator.equals(SELF) || !creator.isAlive()) {
            return false; // this process, where no thread creates it; or a launcher that died
        }
        if (!Files.exists(files.creating())) {
            return false;
        }
        try (FileChannel channel = FileChannel.open(files.creating(), StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                return true;
            }
            lock.release();
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    private static String id(ContainerFiles files) {
        return files.dir().getFileName().toString();
    }
}
