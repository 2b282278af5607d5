package dev.runcible.core.cli;

import dev.runcible.api.ImageReference;
import dev.runcible.api.ImageStore;
import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.Sizes;
import dev.runcible.core.image.ImageChanges;
import dev.runcible.core.image.RootfsImporter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "import", description = "Import an image into a store in the Storm/YARN layout. Sources: "
        + "dir:ROOTFS (a directory becomes a one-layer image).")
final class ImportCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Parameters(paramLabel = "SOURCE", description = "dir:/path/to/rootfs")
    String source;

    @Option(names = {"-t", "--tag"}, paramLabel = "NAME:TAG", required = true,
            description = "Name to list the image under; repeat for more names.")
    List<String> tags = new ArrayList<>();

    @Option(names = "--to", paramLabel = "URI", description = "Store to write (default: the configured local store).")
    String to;

    @Option(names = {"-c", "--change"}, paramLabel = "INSTRUCTION",
            description = "Image setting as a Dockerfile instruction: ENV, WORKDIR, USER, CMD, ENTRYPOINT.")
    List<String> changes = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (!source.startsWith("dir:")) {
            throw new InvalidRequestException("Unsupported import source '" + source + "': use dir:/path/to/rootfs");
        }
        Path rootfs = Path.of(source.substring("dir:".length())).toAbsolutePath().normalize();
        List<String> names = new ArrayList<>();
        for (String tag : tags) {
            names.add(ImageReference.parse(tag).familiarName());
        }
        ImageChanges imageChanges = ImageChanges.parse(changes);
        try (Runcible runcible = main.open()) {
            URI target = to == null ? runcible.defaultStore() : parseUri(to);
            try (ImageStore store = runcible.openStore(target)) {
                RootfsImporter.Imported imported = new RootfsImporter().importDirectory(rootfs, names, imageChanges,
                        store);
                System.out.println("Imported " + String.join(", ", names) + " into " + store.location()
                        + ": manifest " + imported.manifest() + ", one layer ("
                        + Sizes.format(imported.squashfsSize()) + " squashfs)");
                return 0;
            }
        }
    }

    private static URI parseUri(String text) throws InvalidRequestException {
        if (text.startsWith("/")) {
            return Path.of(text).toUri();
        }
        try {
            URI uri = new URI(text);
            if (uri.getScheme() == null) {
                throw new InvalidRequestException("Invalid --to '" + text + "': give a URI such as file:///srv/store");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new InvalidRequestException("Invalid --to '" + text + "': " + e.getMessage());
        }
    }
}
