package dev.runcible.toolkit;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * A directory only its owner, the launcher, may enter (0700): the run directory and the layer cache hold every
 * tenant's state. One that exists looser is tightened; a symbolic link, or a directory of another owner (whom the
 * launcher cannot keep out), is refused.
 */
public final class PrivateDirectory {
    public static final Set<PosixFilePermission> MODE = PosixFilePermissions.fromString("rwx------");

    private PrivateDirectory() {
    }

    /** The reason a directory cannot be made private; its message names the directory and what is wrong. */
    public static final class RefusedException extends FileSystemException {
        RefusedException(Path dir, String reason) {
            super(dir.toString(), null, reason);
        }
    }

    /** Creates the directory (and missing parents) with mode 0700, or makes an existing one of ours 0700. */
    public static void secure(Path dir) throws IOException {
        if (Files.isSymbolicLink(dir)) {
            throw new RefusedException(dir, "is a symbolic link");
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(MODE));
        }
        int self = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (owner != self) {
            throw new RefusedException(dir, "belongs to uid " + owner + ", not to the launcher's uid " + self);
        }
        if (!Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS).equals(MODE)) {
            Files.setPosixFilePermissions(dir, MODE);
        }
    }
}
