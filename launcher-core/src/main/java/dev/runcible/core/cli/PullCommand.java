package dev.runcible.core.cli;

import dev.runcible.api.ImageReference;
import dev.runcible.api.PolicyViolationException;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.CoreConfig;
import dev.runcible.core.config.Sizes;
import dev.runcible.core.image.ResolvedImage;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "pull", description = "Fetch an image into this node's cache (layers as squashfs), as run would, "
        + "without running it.")
final class PullCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Parameters(paramLabel = "IMAGE")
    String image;

    @Override
    public Integer call() throws Exception {
        ImageReference reference = ImageReference.parseStoreName(image);
        try (Runcible runcible = main.open()) {
            if (!main.invocation().caller().isRoot() && !runcible.config().allowedImages().allows(reference)) {
                // What root may fetch into the node's cache is root's choice; an agent peer keeps to the allow-list.
                throw new PolicyViolationException("Image '" + reference.familiarName() + "' is not in "
                        + CoreConfig.ALLOWED_IMAGES + " on this node");
            }
            Progress progress = Progress.forConsole(main);
            runcible.plugins().observeTransfers(progress);
            ResolvedImage resolved = runcible.pull(reference);
            progress.done();
            long bytes = 0;
            for (var layer : resolved.layers()) {
                bytes += java.nio.file.Files.size(layer.path());
            }
            main.out().println("Pulled " + reference.familiarName() + ": manifest " + resolved.manifest().digest()
                    + ", " + resolved.layers().size() + " layer(s), " + Sizes.format(bytes) + " squashfs");
            return 0;
        }
    }
}
