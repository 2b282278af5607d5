package dev.runcible.core.cli;

import dev.runcible.api.ImageReference;
import dev.runcible.api.ImageStore;
import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.Sizes;
import dev.runcible.core.image.ImageChanges;
import dev.runcible.core.image.ImagePublisher;
import dev.runcible.core.image.ResolvedImage;
import dev.runcible.core.image.RootfsImporter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "import", description = "Import an image into a store in the Storm/YARN layout. Sources: "
        + "docker://HOST/REPO:TAG (pulled from a registry, layers converted to squashfs), dir:ROOTFS (a directory "
        + "becomes a one-layer image).")
final class ImportCommand implements Callable<Integer> {
    private static final String DOCKER = "docker://";
    private static final String DIR = "dir:";

    @ParentCommand
    Main main;

    @Parameters(paramLabel = "SOURCE", description = "docker://HOST/REPO:TAG or dir:/path/to/rootfs")
    String source;

    @Option(names = {"-t", "--tag"}, paramLabel = "NAME:TAG",
            description = "Name to list the image under; repeat for more names (default for docker://: its name).")
    List<String> tags = new ArrayList<>();

    @Option(names = "--to", paramLabel = "URI", description = "Store to write (default: the configured local store).")
    String to;

    @Option(names = {"-c", "--change"}, paramLabel = "INSTRUCTION",
            description = "Image setting as a Dockerfile instruction: ENV, WORKDIR, USER, CMD, ENTRYPOINT.")
    List<String> changes = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        List<String> names = new ArrayList<>();
        for (String tag : tags) {
            names.add(ImageReference.parse(tag).familiarName());
        }
        if (source.startsWith(DOCKER)) {
            ImageReference reference = ImageReference.parse(source.substring(DOCKER.length()));
            if (!changes.isEmpty()) {
                throw new InvalidRequestException("--change applies to dir: imports only; a registry image keeps "
                        + "its own config");
            }
            if (names.isEmpty()) {
                names.add(reference.familiarName());
            }
            return fromRegistry(reference, names);
        }
        if (!source.startsWith(DIR)) {
            throw new InvalidRequestException("Unsupported import source '" + source
                    + "': use docker://HOST/REPO:TAG or dir:/path/to/rootfs");
        }
        if (names.isEmpty()) {
            throw new InvalidRequestException("Importing a directory needs --tag NAME:TAG");
        }
        Path rootfs;
        try {
            rootfs = Path.of(source.substring(DIR.length())).toAbsolutePath().normalize();
        } catch (java.nio.file.InvalidPathException e) {
            throw new InvalidRequestException("Invalid import source '" + source + "': " + e.getReason());
        }
        ImageChanges imageChanges = ImageChanges.parse(changes);
        try (Runcible runcible = main.open();
                ImageStore store = runcible.openStore(StoreOption.resolve(runcible, to, "--to"))) {
            RootfsImporter.Imported imported = new RootfsImporter(runcible.localizer()).importDirectory(rootfs, names, imageChanges,
                    store);
            main.out().println("Imported " + String.join(", ", names) + " into " + store.location()
                    + ": manifest " + imported.manifest() + ", one layer ("
                    + Sizes.format(imported.squashfsSize()) + " squashfs)");
            return 0;
        }
    }

    private int fromRegistry(ImageReference reference, List<String> names) throws Exception {
        try (Runcible runcible = main.open();
                ImageStore store = runcible.openStore(StoreOption.resolve(runcible, to, "--to"))) {
            Progress progress = Progress.forConsole(main);
            runcible.plugins().observeTransfers(progress);
            ResolvedImage image = runcible.pullFromRegistry(reference);
            progress.done();
            new ImagePublisher().publish(image, names, store);
            main.out().println("Imported " + String.join(", ", names) + " into " + store.location()
                    + ": manifest " + image.manifest().digest() + ", " + image.layers().size() + " layer(s)");
            return 0;
        }
    }
}
