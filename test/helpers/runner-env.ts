/**
 * Loaded first into every test process, through the NODE_OPTIONS the .taprc gives tests (so before the runner's
 * own module hooks). The runner tracks which files each process loads, for coverage and `--changed`; with
 * coverage off that tracking only costs: it reads and measures every module a test process loads, and every Node
 * child it starts (an `etcdgw serve`, a CLI command) inherits it. Excluding every file keeps the hooks but skips
 * that work, halving each process's start-up CPU.
 */
process.env._TAPJS_PROCESSINFO_EXCLUDE_ = '/./'

// children start as a user would start them: without this file (its path is relative to the runner's directory)
const own = /^"?--import=\.\/dist\/test\/helpers\/runner-env\.js"?$/
const options = (process.env.NODE_OPTIONS ?? '').split(/\s+/).filter((option) => option !== '' && !own.test(option))
if (options.length > 0) process.env.NODE_OPTIONS = options.join(' ')
else delete process.env.NODE_OPTIONS
