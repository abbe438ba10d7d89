#if canImport(Glibc)
import Glibc
#endif

// lab: the command-line front end. Each subcommand parses its own options strictly.

let usage = """
usage: lab COMMAND [OPTIONS]

commands:
  models                      list the model names
  params MODEL [--json]       parameters per module
  predict --model M --weights W.safetensors --input X.safetensors --output Y.safetensors [--train-mode]
  grad    --model M --weights W.safetensors --input X.safetensors --output G.safetensors
  train   --model M --dataset D --out RUN_DIR [--epochs N --batch-size N --lr X --momentum X
          --weight-decay X --nesterov --schedule constant|cosine|multistep:E1,E2
          --warmup LR:ERROR[:WINDOW] --seed N --threads N --limit N --test-limit N --no-augment --data DIR
          --stop-at-step N --profile]
  train   --resume RUN_DIR [--data DIR --threads N --stop-at-step N --profile]   (data: remembered from the run)
  eval    --model M --weights W.safetensors --dataset D [--limit N --data DIR]

  experiment list | NAME [--quick] [--out DIR] [--seeds N] [--data DIR]

data sets: mnist, fashion-mnist, cifar10, cifar100; data from --data DIR, $TAPE_DATA or ../shared/data
"""

/// Writes a line to standard error.
func printError(_ text: String) {
    let line = text + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

func run(_ command: String, _ rest: [String]) throws {
    switch command {
    case "models":
        _ = try Arguments(rest, valueOptions: [], flagOptions: [])
        listModels()
    case "params":
        try parameters(Arguments(rest, valueOptions: [], flagOptions: ["json"]))
    case "predict":
        try predict(Arguments(rest, valueOptions: ["model", "weights", "input", "output"], flagOptions: ["train-mode"]))
    case "grad":
        try gradients(Arguments(rest, valueOptions: ["model", "weights", "input", "output"], flagOptions: []))
    case "train":
        try trainCommand(Arguments(rest, valueOptions: ["model", "dataset", "out", "resume", "epochs", "batch-size", "lr", "momentum",
                                                        "weight-decay", "schedule", "warmup", "seed", "threads", "limit", "test-limit",
                                                        "data", "stop-at-step"],
                                   flagOptions: ["no-augment", "nesterov", "profile"]))
    case "eval":
        try evalCommand(Arguments(rest, valueOptions: ["model", "weights", "dataset", "limit", "data"], flagOptions: []))
    case "experiment":
        try experimentCommand(Arguments(rest, valueOptions: ["out", "seeds", "data"], flagOptions: ["quick"]))
    case "help", "--help", "-h":
        print(usage)
    default:
        throw LabError("unknown command '\(command)'", usage: true)
    }
}

let commandLine = Array(CommandLine.arguments.dropFirst())
guard let command = commandLine.first else {
    printError(usage)
    exit(2)
}
do {
    try run(command, Array(commandLine.dropFirst()))
} catch let request as ExitRequest {
    exit(request.status)
} catch let error as LabError {
    printError("lab: error: \(error.description)")
    if error.isUsage { printError(usage) }
    exit(error.isUsage ? 2 : 1)
} catch {
    printError("lab: error: \(error)")
    exit(1)
}
