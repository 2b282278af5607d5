package dev.runcible.core.cli;

import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.Runcible;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** Store locations given on the command line: a URI such as file:///srv/store, or an absolute path. */
final class StoreOption {
    private StoreOption() {
    }

    static URI resolve(Runcible runcible, String text, String option) throws InvalidRequestException {
        if (text == null || text.isEmpty()) {
            return runcible.defaultStore();
        }
        if (text.startsWith("/")) {
            try {
                return Path.of(text).toUri();
            } catch (java.nio.file.InvalidPathException e) {
                throw new InvalidRequestException("Invalid " + option + " '" + text + "': " + e.getReason());
            }
        }
        try {
            URI uri = new URI(text);
            if (uri.getScheme() == null) {
                throw new InvalidRequestException("Invalid " + option + " '" + text
                        + "': give a URI such as file:///srv/store or an absolute path");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new InvalidRequestException("Invalid " + option + " '" + text + "': " + e.getMessage());
        }
    }
}
