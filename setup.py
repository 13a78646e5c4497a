"""mmcrossformer: CrossFormer (cross spatio-temporal transformer for 2D-to-3D
human pose lifting) as an MMPose plugin."""
import glob

from setuptools import find_packages, setup


def cpu_kernels() -> dict:
    """``mmcrossformer.ops._ext``, the CPU kernels of ``mmcrossformer.ops``
    (needs torch at build time: ``pip install --no-build-isolation``).
    Optional: where it does not compile (no C++ compiler, no OpenMP), the
    package installs without it and uses PyTorch's kernels."""
    try:
        from torch.utils.cpp_extension import BuildExtension, CppExtension
    except ImportError:
        return {}
    ext = CppExtension(
        'mmcrossformer.ops._ext',
        sorted(glob.glob('mmcrossformer/ops/csrc/*.cpp')),
        depends=glob.glob('mmcrossformer/ops/csrc/*.h'),
        extra_compile_args=['-O3', '-fopenmp'],  # OpenMP: at::parallel_for
        extra_link_args=['-fopenmp'],
        optional=True)
    # without ninja a failed compile is a CompileError, which setuptools
    # skips for optional extensions
    return dict(ext_modules=[ext],
                cmdclass={'build_ext': BuildExtension.with_options(
                    use_ninja=False)})


def parse_requirements(path: str) -> list:
    with open(path) as f:
        return [line.split('#')[0].strip() for line in f
                if line.split('#')[0].strip()]


setup(
    name='mmcrossformer',
    version='0.1.0',
    description='CrossFormer 3D human pose lifting for MMPose',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmcrossformer', 'mmcrossformer.*']),
    python_requires='>=3.8',
    install_requires=parse_requirements('requirements/runtime.txt'),
    extras_require={'tests': parse_requirements('requirements/tests.txt')},
    license='Apache License 2.0',
    zip_safe=False,
    **cpu_kernels())
