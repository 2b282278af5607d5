package dev.runcible.core.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The mounts of this process's mount namespace, from {@code /proc/self/mountinfo}. */
public final class MountTable {
    /** {@code device}: the filesystem's device number, {@code major:minor}. */
    public record Mount(String mountPoint, String fsType, String source, String options, String device) {
    }

    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    private MountTable() {
    }

    public static List<Mount> read() throws IOException {
        return parse(Files.readString(MOUNTINFO, StandardCharsets.UTF_8));
    }

    /** Parses mountinfo lines: {@code id parent major:minor root mountpoint options [optional...] - fstype source superoptions}. */
    static List<Mount> parse(String text) {
        List<Mount> mounts = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] fields = line.split(" ");
            if (fields.length < 10) {
                continue;
            }
            int separator = -1;
            for (int i = 6; i < fields.length; i++) {
                if (fields[i].equals("-")) {
                    separator = i;
                    break;
                }
            }
            if (separator < 0 || separator + 3 > fields.length) {
                continue;
            }
            mounts.add(new Mount(unescape(fields[4]), fields[separator + 1], unescape(fields[separator + 2]),
                    fields[5] + (separator + 3 < fields.length ? "," + fields[separator + 3] : ""), fields[2]));
        }
        return mounts;
    }

    public static boolean isMounted(Path mountPoint) throws IOException {
        String wanted = mountPoint.toString();
        return read().stream().anyMatch(m -> m.mountPoint().equals(wanted));
    }

    /** Mount points at or below a directory. */
    public static List<Mount> under(Path directory) throws IOException {
        String prefix = directory.toString() + "/";
        return read().stream()
                .filter(m -> m.mountPoint().equals(directory.toString()) || m.mountPoint().startsWith(prefix))
                .toList();
    }

    /** The kernel writes space, tab, newline and backslash as octal escapes. */
    static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length()
                    && field.substring(i + 1, i + 4).chars().allMatch(d -> d >= '0' && d <= '7')) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
