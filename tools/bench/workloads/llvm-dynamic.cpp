// tools/bench workload `llvm-dynamic` (see lib/workloads.mjs): a small driver over LLVM's
// C API, linked by g++ as a PIE against Debian's static LLVM 14 libraries and the shared
// libstdc++/libc/libz/libtinfo/libffi. The output is ~46 MiB of C++ (hundreds of global
// constructors, vtables and typeinfo referring into libstdc++, COMDAT groups, TLS, ~100k
// dynamic relocations), and every step prints deterministic text (llvm-dynamic.stdout), so a
// wrong link shows up in stdout. Only the C API is used; the expected text is LLVM 14's.
#include <llvm-c/Analysis.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/ExecutionEngine.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

[[noreturn]] void fail(const char *what, const char *detail) {
  std::fprintf(stderr, "llvm-dynamic: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  std::exit(1);
}

std::string takeMessage(char *message) {
  std::string text = message ? message : "";
  LLVMDisposeMessage(message);
  return text;
}

std::string moduleText(LLVMModuleRef module) {
  return takeMessage(LLVMPrintModuleToString(module));
}

// i32 @add(i32 %a, i32 %b) and i32 @triangle(i32 %n), the sum of add(acc, i) for i < n.
LLVMModuleRef buildModule(LLVMContextRef context) {
  LLVMModuleRef module = LLVMModuleCreateWithNameInContext("bench", context);
  LLVMBuilderRef builder = LLVMCreateBuilderInContext(context);
  LLVMTypeRef i32 = LLVMInt32TypeInContext(context);

  LLVMTypeRef addParams[] = {i32, i32};
  LLVMTypeRef addType = LLVMFunctionType(i32, addParams, 2, 0);
  LLVMValueRef add = LLVMAddFunction(module, "add", addType);
  LLVMSetValueName2(LLVMGetParam(add, 0), "a", 1);
  LLVMSetValueName2(LLVMGetParam(add, 1), "b", 1);
  LLVMPositionBuilderAtEnd(builder, LLVMAppendBasicBlockInContext(context, add, "entry"));
  LLVMBuildRet(builder, LLVMBuildAdd(builder, LLVMGetParam(add, 0), LLVMGetParam(add, 1), "sum"));

  LLVMTypeRef triangleType = LLVMFunctionType(i32, &i32, 1, 0);
  LLVMValueRef triangle = LLVMAddFunction(module, "triangle", triangleType);
  LLVMValueRef n = LLVMGetParam(triangle, 0);
  LLVMSetValueName2(n, "n", 1);
  LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(context, triangle, "entry");
  LLVMBasicBlockRef loop = LLVMAppendBasicBlockInContext(context, triangle, "loop");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(context, triangle, "done");
  LLVMValueRef zero = LLVMConstInt(i32, 0, 0);
  LLVMPositionBuilderAtEnd(builder, entry);
  LLVMBuildCondBr(builder, LLVMBuildICmp(builder, LLVMIntSGT, n, zero, "nonempty"), loop, done);
  LLVMPositionBuilderAtEnd(builder, loop);
  LLVMValueRef i = LLVMBuildPhi(builder, i32, "i");
  LLVMValueRef acc = LLVMBuildPhi(builder, i32, "acc");
  LLVMValueRef callArgs[] = {acc, i};
  LLVMValueRef nextAcc = LLVMBuildCall2(builder, addType, add, callArgs, 2, "acc.next");
  LLVMValueRef nextI = LLVMBuildAdd(builder, i, LLVMConstInt(i32, 1, 0), "i.next");
  LLVMBuildCondBr(builder, LLVMBuildICmp(builder, LLVMIntSLT, nextI, n, "more"), loop, done);
  LLVMValueRef iIncoming[] = {zero, nextI};
  LLVMValueRef accIncoming[] = {zero, nextAcc};
  LLVMBasicBlockRef blocks[] = {entry, loop};
  LLVMAddIncoming(i, iIncoming, blocks, 2);
  LLVMAddIncoming(acc, accIncoming, blocks, 2);
  LLVMPositionBuilderAtEnd(builder, done);
  LLVMValueRef result = LLVMBuildPhi(builder, i32, "result");
  LLVMValueRef resultIncoming[] = {zero, nextAcc};
  LLVMAddIncoming(result, resultIncoming, blocks, 2);
  LLVMBuildRet(builder, result);

  LLVMDisposeBuilder(builder);
  return module;
}

void verify(LLVMModuleRef module, const char *what) {
  char *message = nullptr;
  if (LLVMVerifyModule(module, LLVMReturnStatusAction, &message)) {
    fail(what, takeMessage(message).c_str());
  }
  LLVMDisposeMessage(message);
  std::printf("%s: ok\n", what);
}

} // namespace

int main() {
  LLVMContextRef context = LLVMContextCreate();
  LLVMModuleRef module = buildModule(context);
  verify(module, "verify");
  const std::string text = moduleText(module);
  std::printf("%s", text.c_str());

  // Bitcode round trip through memory.
  LLVMMemoryBufferRef bitcode = LLVMWriteBitcodeToMemoryBuffer(module);
  LLVMModuleRef reread = nullptr;
  if (LLVMParseBitcodeInContext2(context, bitcode, &reread)) fail("bitcode read", nullptr);
  LLVMDisposeMemoryBuffer(bitcode);
  LLVMSetModuleIdentifier(reread, "bench", 5); // the buffer's name is not stored in bitcode
  if (moduleText(reread) != text) fail("bitcode round trip", "module text differs");
  std::printf("bitcode round trip: ok\n");

  // The new pass manager's O2 pipeline on the re-read copy.
  LLVMPassBuilderOptionsRef options = LLVMCreatePassBuilderOptions();
  LLVMErrorRef error = LLVMRunPasses(reread, "default<O2>", nullptr, options);
  if (error) fail("default<O2>", takeMessage(LLVMGetErrorMessage(error)).c_str());
  LLVMDisposePassBuilderOptions(options);
  verify(reread, "verify after default<O2>");
  std::printf("%s", moduleText(reread).c_str());

  // Interpreter on a clone, MCJIT (native code) on the original.
  LLVMLinkInInterpreter();
  LLVMLinkInMCJIT();
  if (LLVMInitializeNativeTarget() || LLVMInitializeNativeAsmPrinter()) {
    fail("native target", "not available");
  }
  LLVMExecutionEngineRef interpreter = nullptr;
  char *message = nullptr;
  if (LLVMCreateInterpreterForModule(&interpreter, LLVMCloneModule(module), &message)) {
    fail("interpreter", takeMessage(message).c_str());
  }
  LLVMValueRef interpretedAdd = nullptr;
  if (LLVMFindFunction(interpreter, "add", &interpretedAdd)) fail("interpreter", "no @add");
  LLVMTypeRef i32 = LLVMInt32TypeInContext(context);
  LLVMGenericValueRef args[] = {LLVMCreateGenericValueOfInt(i32, 40, 1),
                                LLVMCreateGenericValueOfInt(i32, 2, 1)};
  LLVMGenericValueRef sum = LLVMRunFunction(interpreter, interpretedAdd, 2, args);
  std::printf("interpreter: add(40, 2) = %lld\n",
              static_cast<long long>(LLVMGenericValueToInt(sum, 1)));
  LLVMDisposeGenericValue(sum);
  for (LLVMGenericValueRef arg : args) LLVMDisposeGenericValue(arg);
  LLVMDisposeExecutionEngine(interpreter);

  LLVMMCJITCompilerOptions jitOptions;
  LLVMInitializeMCJITCompilerOptions(&jitOptions, sizeof jitOptions);
  jitOptions.OptLevel = 2;
  LLVMExecutionEngineRef jit = nullptr;
  if (LLVMCreateMCJITCompilerForModule(&jit, module, &jitOptions, sizeof jitOptions, &message)) {
    fail("MCJIT", takeMessage(message).c_str());
  }
  auto jitAdd = reinterpret_cast<int (*)(int, int)>(LLVMGetFunctionAddress(jit, "add"));
  auto jitTriangle = reinterpret_cast<int (*)(int)>(LLVMGetFunctionAddress(jit, "triangle"));
  if (!jitAdd || !jitTriangle) fail("MCJIT", "function address not found");
  std::printf("mcjit: add(40, 2) = %d\n", jitAdd(40, 2));
  std::printf("mcjit: triangle(100) = %d\n", jitTriangle(100));
  LLVMDisposeExecutionEngine(jit); // owns `module`
  LLVMDisposeModule(reread);
  LLVMContextDispose(context);
  std::printf("llvm ok\n");
  return 0;
}
