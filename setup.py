"""mmcrossformer: CrossFormer (cross spatio-temporal transformer for 2D-to-3D
human pose lifting) as an MMPose plugin."""
from setuptools import find_packages, setup


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
)
