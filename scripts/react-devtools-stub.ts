// Ink imports react-devtools-core (an optional dev dependency) only when DEV=true. The bundle aliases it here
// so esbuild needs no such package and the binary carries no devtools code.
const devtools = {
  initialize(): void {},
  connectToDevTools(): void {},
};

export default devtools;
