// Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
//
// The Python module mmcrossformer.ops._ext: importing it registers the
// operators of the other files here (TORCH_LIBRARY_FRAGMENT(mmcrossformer)).
#include <Python.h>

extern "C" PyObject* PyInit__ext(void) {
  static PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ext", nullptr, -1,
                               nullptr};
  return PyModule_Create(&module);
}
