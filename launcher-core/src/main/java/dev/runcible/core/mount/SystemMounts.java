package dev.runcible.core.mount;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import java.util.Optional;

/**
 * mount(2) and umount2(2) called from the JVM through libc (JNA), so a launch runs no {@code mount} or
 * {@code umount} program for its root filesystem's overlay. Where libc cannot be loaded (no JNA native library for
 * this platform, a noexec temporary directory), {@link #unavailable()} says why and the programs are used.
 */
final class SystemMounts {
    static final long MS_NOSUID = 2;
    static final long MS_NODEV = 4;
    /** The most the kernel copies of mount(2)'s data argument: one page, with its terminating zero. */
    static final int MAX_DATA = 4095;

    /** The calls of libc used here; each throws {@link LastErrorException} with errno on failure. */
    interface LibC extends Library {
        int mount(String source, String target, String type, NativeLong flags, String data) throws LastErrorException;

        int umount2(String target, int flags) throws LastErrorException;
    }

    private static final LibC LIBC;
    private static final String UNAVAILABLE;

    /** Set to 1 to use the programs (a test that stands in for mount, an operator ruling out the native path). */
    static final String PROGRAMS_ENV = "RUNCIBLE_MOUNT_PROGRAMS";

    static {
        LibC libc = null;
        String why = null;
        if ("1".equals(System.getenv(PROGRAMS_ENV))) {
            why = PROGRAMS_ENV + "=1";
        } else {
            try {
                libc = Native.load("c", LibC.class);
            } catch (UnsatisfiedLinkError | RuntimeException e) {
                why = e.getMessage();
            }
        }
        LIBC = libc;
        UNAVAILABLE = why;
    }

    private SystemMounts() {
    }

    /** Why libc cannot be called here, or empty when it can. */
    static Optional<String> unavailable() {
        return Optional.ofNullable(UNAVAILABLE);
    }

    static void mount(String source, String target, String type, long flags, String data) {
        LIBC.mount(source, target, type, new NativeLong(flags), data);
    }

    static void unmount(String target) {
        LIBC.umount2(target, 0);
    }
}
